declare module 'json-logic-js' {
  type Logic = unknown;
  const jsonLogic: {
    apply(logic: Logic, data?: unknown): unknown;
    add_operation(name: string, fn: (...args: unknown[]) => unknown): void;
    truthy(value: unknown): boolean;
    is_logic(logic: unknown): boolean;
    get_operator(logic: Record<string, unknown>): string;
  };
  export default jsonLogic;
}
