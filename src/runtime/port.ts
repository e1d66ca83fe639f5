import type { Message } from '../stream.js';

/** A listener on a {@link Port}. */
export type Listener<T> = (message: Message<T>) => void;

/**
 * The run-time end of a stream: a synchronous fan-out to its listeners. Exceptions thrown by a
 * listener propagate to the emitter, so the runtime sees every failure at once.
 * @internal
 */
export class Port<T> {
  private listeners: Listener<T>[] = [];

  /** Adds a listener; returns a function that removes it. */
  listen(fn: Listener<T>): () => void {
    this.listeners = [...this.listeners, fn];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== fn);
    };
  }

  /** Removes every listener, at the end of a run. */
  clear(): void {
    this.listeners = [];
  }

  emit(message: Message<T>): void {
    const ls = this.listeners;
    for (let i = 0; i < ls.length; i++) ls[i]!(message);
  }
}
