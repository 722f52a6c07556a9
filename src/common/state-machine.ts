import { AppError } from './errors';

export type Transitions<S extends string, A extends string> = Record<A, { from: readonly S[]; to: S }>;

/** An explicit transition table; an action from any other state is a 409 INVALID_STATE. */
export class StateMachine<S extends string, A extends string> {
  constructor(
    private readonly subject: string,
    readonly transitions: Transitions<S, A>,
  ) {}

  next(current: S, action: A): S {
    const t = this.transitions[action];
    if (!t.from.includes(current)) {
      throw new AppError('INVALID_STATE', `Cannot ${action} a ${this.subject} that is ${current}`, { status: current });
    }
    return t.to;
  }

  /** Every (from, to) pair the table allows. */
  pairs(): [S, S][] {
    return (Object.values(this.transitions) as { from: readonly S[]; to: S }[]).flatMap((t) => t.from.map((f): [S, S] => [f, t.to]));
  }
}
