/**
 * Extension points: a list other plugins add to while plugins initialise (login gates, email
 * templates, route guards). Once the kernel runs it closes them, so what serves traffic never
 * changes under it and a late `add` is a loud bug instead of a silent no-op.
 */
export class ExtensionPoint<T> {
  readonly name: string;
  readonly #items: T[] = [];
  #closed = false;

  constructor(name: string) {
    this.name = name;
  }

  add(item: T): void {
    if (this.#closed) {
      throw new Error(`extension point "${this.name}" is closed: add to it from your plugin's init, before the kernel runs`);
    }
    this.#items.push(item);
  }

  /** What was added, in order. */
  get items(): readonly T[] {
    return this.#items;
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
  }
}
