/** `ctx.emit` as the plugin's modules receive it (hooks delivered after their transaction commits). */
import type { EmitOptions, HookRef, PayloadOf } from '../../core/index.ts';

export type Emit = <H extends HookRef<unknown>>(hook: H, payload: PayloadOf<H>, options?: EmitOptions) => void;
