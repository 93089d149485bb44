/**
 * A small but real OData v4 query engine for the list endpoints (mde-api.md §4.3, §4.10, §7.15):
 * `$filter` (eq ne gt ge lt le, and or not, parentheses, `in (...)`, startswith/endswith/contains,
 * `collection/any(x: x eq 'v')`), `$orderby`, `$top` (≤ 10,000), `$skip`. Property names match
 * case-insensitively so PascalCase filters work, as clients observe on the real service.
 * String comparisons are case-insensitive too (the service's own behaviour is undocumented; being lenient
 * avoids false "not found" for host names typed in another case).
 */

export class ODataQueryError extends Error {}

type Node =
  | { t: "lit"; v: string | number | boolean | null }
  | { t: "prop"; path: string[] }
  | { t: "bin"; op: string; l: Node; r: Node }
  | { t: "not"; e: Node }
  | { t: "in"; l: Node; list: Node[] }
  | { t: "fn"; name: string; args: Node[] }
  | { t: "any"; path: string[]; variable: string; body: Node | undefined };

type Token =
  | { k: "str"; v: string }
  | { k: "num"; v: number }
  | { k: "word"; v: string }
  | { k: "sym"; v: string };

const DATE_LITERAL = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?/;

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let v = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new ODataQueryError("Unterminated string literal in $filter");
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i];
        i++;
      }
      out.push({ k: "str", v });
    } else if ("(),:".includes(c)) {
      out.push({ k: "sym", v: c });
      i++;
    } else {
      const date = DATE_LITERAL.exec(text.slice(i));
      if (date && /^\d/.test(c)) {
        out.push({ k: "str", v: date[0] });
        i += date[0].length;
        continue;
      }
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (m) {
        out.push({ k: "num", v: Number(m[0]) });
        i += m[0].length;
        continue;
      }
      const w = /^[A-Za-z_][\w./]*/.exec(text.slice(i));
      if (!w) throw new ODataQueryError(`Syntax error at position ${i} in $filter`);
      out.push({ k: "word", v: w[0] });
      i += w[0].length;
    }
  }
  return out;
}

const COMPARISON = new Set(["eq", "ne", "gt", "ge", "lt", "le"]);
const FUNCTIONS = new Set(["startswith", "endswith", "contains", "tolower", "toupper"]);

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Node {
    const node = this.or();
    if (this.pos < this.tokens.length) throw new ODataQueryError("Unexpected trailing tokens in $filter");
    return node;
  }
  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }
  private isWord(v: string): boolean {
    const t = this.peek();
    return t?.k === "word" && t.v.toLowerCase() === v;
  }
  private expectSym(v: string): void {
    const t = this.tokens[this.pos++];
    if (t?.k !== "sym" || t.v !== v) throw new ODataQueryError(`Expected '${v}' in $filter`);
  }
  private or(): Node {
    let l = this.and();
    while (this.isWord("or")) {
      this.pos++;
      l = { t: "bin", op: "or", l, r: this.and() };
    }
    return l;
  }
  private and(): Node {
    let l = this.unary();
    while (this.isWord("and")) {
      this.pos++;
      l = { t: "bin", op: "and", l, r: this.unary() };
    }
    return l;
  }
  private unary(): Node {
    if (this.isWord("not")) {
      this.pos++;
      return { t: "not", e: this.unary() };
    }
    return this.comparison();
  }
  private comparison(): Node {
    const l = this.primary();
    const t = this.peek();
    if (t?.k === "word" && COMPARISON.has(t.v.toLowerCase())) {
      this.pos++;
      return { t: "bin", op: t.v.toLowerCase(), l, r: this.primary() };
    }
    if (this.isWord("in")) {
      this.pos++;
      this.expectSym("(");
      const list: Node[] = [];
      while (!(this.peek()?.k === "sym" && this.peek()?.v === ")")) {
        list.push(this.primary());
        if (this.peek()?.k === "sym" && this.peek()?.v === ",") this.pos++;
      }
      this.expectSym(")");
      return { t: "in", l, list };
    }
    return l;
  }
  private primary(): Node {
    const t = this.tokens[this.pos++];
    if (!t) throw new ODataQueryError("Unexpected end of $filter");
    if (t.k === "str") return { t: "lit", v: t.v };
    if (t.k === "num") return { t: "lit", v: t.v };
    if (t.k === "sym") {
      if (t.v !== "(") throw new ODataQueryError(`Unexpected '${t.v}' in $filter`);
      const inner = this.or();
      this.expectSym(")");
      return inner;
    }
    const lower = t.v.toLowerCase();
    if (lower === "true" || lower === "false") return { t: "lit", v: lower === "true" };
    if (lower === "null") return { t: "lit", v: null };
    const next = this.peek();
    if (next?.k === "sym" && next.v === "(") {
      const lambda = /^(.*)\/(any|all)$/i.exec(t.v);
      if (lambda?.[1]) return this.lambda(lambda[1], (lambda[2] ?? "").toLowerCase());
      if (!FUNCTIONS.has(lower)) throw new ODataQueryError(`Unsupported function '${t.v}' in $filter`);
      this.pos++;
      const args: Node[] = [];
      while (!(this.peek()?.k === "sym" && this.peek()?.v === ")")) {
        args.push(this.or());
        if (this.peek()?.k === "sym" && this.peek()?.v === ",") this.pos++;
      }
      this.expectSym(")");
      return { t: "fn", name: lower, args };
    }
    return { t: "prop", path: t.v.split("/") };
  }
  private lambda(collection: string, kind: string): Node {
    if (kind !== "any") throw new ODataQueryError("Only the 'any' lambda operator is supported in $filter");
    this.expectSym("(");
    if (this.peek()?.k === "sym" && this.peek()?.v === ")") {
      this.pos++;
      return { t: "any", path: collection.split("/"), variable: "", body: undefined };
    }
    const variable = this.tokens[this.pos++];
    if (variable?.k !== "word") throw new ODataQueryError("Expected a lambda variable in $filter");
    this.expectSym(":");
    const body = this.or();
    this.expectSym(")");
    return { t: "any", path: collection.split("/"), variable: variable.v, body };
  }
}

type Scope = { entity: Record<string, unknown>; vars: Map<string, unknown> };

function getProperty(obj: unknown, name: string): unknown {
  if (typeof obj !== "object" || obj === null) return undefined;
  const record = obj as Record<string, unknown>;
  if (name in record) return record[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(record)) if (key.toLowerCase() === lower) return record[key];
  throw new ODataQueryError(`Could not find a property named '${name}'`);
}

function resolve(path: string[], scope: Scope): unknown {
  const [head, ...rest] = path;
  let value: unknown = head !== undefined && scope.vars.has(head) ? scope.vars.get(head) : undefined;
  let remaining = rest;
  if (head === undefined || !scope.vars.has(head)) {
    value = scope.entity;
    remaining = path;
  }
  for (const part of remaining) value = getProperty(value, part);
  return value;
}

function normalise(value: unknown): string | number | boolean | null {
  if (value === undefined || value === null) return null;
  if (typeof value === "string") {
    if (DATE_LITERAL.test(value) && value.length >= 10) {
      const ms = Date.parse(value);
      if (!Number.isNaN(ms)) return ms;
    }
    return value.toLowerCase();
  }
  if (typeof value === "number" || typeof value === "boolean") return value;
  return JSON.stringify(value);
}

function compare(op: string, a: unknown, b: unknown): boolean {
  const x = normalise(a);
  const y = normalise(b);
  switch (op) {
    case "eq":
      return x === y;
    case "ne":
      return x !== y;
  }
  if (x === null || y === null) return false;
  switch (op) {
    case "gt":
      return x > y;
    case "ge":
      return x >= y;
    case "lt":
      return x < y;
    default:
      return x <= y;
  }
}

function evaluate(node: Node, scope: Scope): unknown {
  switch (node.t) {
    case "lit":
      return node.v;
    case "prop":
      return resolve(node.path, scope);
    case "not":
      return !truthy(evaluate(node.e, scope));
    case "in": {
      const v = evaluate(node.l, scope);
      return node.list.some((item) => compare("eq", v, evaluate(item, scope)));
    }
    case "bin":
      if (node.op === "and") return truthy(evaluate(node.l, scope)) && truthy(evaluate(node.r, scope));
      if (node.op === "or") return truthy(evaluate(node.l, scope)) || truthy(evaluate(node.r, scope));
      return compare(node.op, evaluate(node.l, scope), evaluate(node.r, scope));
    case "fn": {
      const args = node.args.map((a) => evaluate(a, scope));
      const s = (i: number) => String(args[i] ?? "").toLowerCase();
      if (node.name === "tolower" || node.name === "toupper") return args[0];
      if (args.length !== 2) throw new ODataQueryError(`${node.name} takes two arguments`);
      if (args[0] === null || args[0] === undefined) return false;
      if (node.name === "startswith") return s(0).startsWith(s(1));
      if (node.name === "endswith") return s(0).endsWith(s(1));
      return s(0).includes(s(1));
    }
    case "any": {
      const collection = resolve(node.path, scope);
      if (!Array.isArray(collection)) return false;
      if (!node.body) return collection.length > 0;
      const body = node.body;
      return collection.some((item) => {
        const vars = new Map(scope.vars);
        vars.set(node.variable, item);
        return truthy(evaluate(body, { entity: scope.entity, vars }));
      });
    }
  }
}

function truthy(value: unknown): boolean {
  return value === true;
}

export type Predicate = (entity: Record<string, unknown>) => boolean;

export function compileFilter(text: string): Predicate {
  const ast = new Parser(tokenize(text)).parse();
  return (entity) => truthy(evaluate(ast, { entity, vars: new Map() }));
}

export interface ListQuery {
  filter?: Predicate;
  orderBy?: { field: string; desc: boolean }[];
  top?: number;
  skip: number;
  /** The raw options, to rebuild `@odata.nextLink`. */
  raw: URLSearchParams;
}

const ALLOWED_OPTIONS = new Set(["$filter", "$top", "$skip", "$orderby", "$select", "$count"]);
export const MAX_TOP = 10_000;

export function parseListQuery(params: URLSearchParams): ListQuery {
  for (const key of params.keys()) {
    if (key.startsWith("$") && !ALLOWED_OPTIONS.has(key.toLowerCase())) {
      throw new ODataQueryError(`The query parameter '${key}' is not supported`);
    }
  }
  const get = (name: string) => {
    for (const [k, v] of params) if (k.toLowerCase() === name) return v;
    return undefined;
  };
  const query: ListQuery = { skip: 0, raw: params };
  const filter = get("$filter");
  if (filter !== undefined) query.filter = compileFilter(filter);
  const top = get("$top");
  if (top !== undefined) {
    if (!/^\d+$/.test(top) || Number(top) > MAX_TOP) {
      throw new ODataQueryError(
        `The limit of '${MAX_TOP}' for Top query has been exceeded or $top is invalid: '${top}'`,
      );
    }
    query.top = Number(top);
  }
  const skip = get("$skip");
  if (skip !== undefined) {
    if (!/^\d+$/.test(skip)) throw new ODataQueryError(`Invalid value for $skip: '${skip}'`);
    query.skip = Number(skip);
  }
  const orderBy = get("$orderby");
  if (orderBy !== undefined) {
    query.orderBy = orderBy.split(",").map((part) => {
      const m = /^\s*([\w/]+)(?:\s+(asc|desc))?\s*$/i.exec(part);
      if (!m?.[1]) throw new ODataQueryError(`Invalid $orderby clause '${part}'`);
      return { field: m[1], desc: (m[2] ?? "").toLowerCase() === "desc" };
    });
  }
  return query;
}

export interface Page<T> {
  items: T[];
  /** Query string for the next page when the server page size cut this one. */
  nextQuery?: string;
}

export function applyListQuery<T extends Record<string, unknown>>(
  all: readonly T[],
  query: ListQuery,
  pageSize: number,
): Page<T> {
  let rows = query.filter ? all.filter((e) => query.filter?.(e)) : [...all];
  if (query.orderBy) {
    const order = query.orderBy;
    const keyed = rows.map((row) => ({ row, keys: order.map((o) => normalise(getProperty(row, o.field))) }));
    keyed.sort((a, b) => {
      for (let i = 0; i < order.length; i++) {
        const x = a.keys[i] ?? null;
        const y = b.keys[i] ?? null;
        if (x === y) continue;
        const less = x === null || (y !== null && x < y);
        return (less ? -1 : 1) * (order[i]?.desc ? -1 : 1);
      }
      return 0;
    });
    rows = keyed.map((k) => k.row);
  }
  const wanted = query.top ?? Number.POSITIVE_INFINITY;
  const take = Math.min(wanted, pageSize);
  const items = rows.slice(query.skip, query.skip + take);
  const page: Page<T> = { items };
  if (take < wanted && rows.length > query.skip + take) {
    const next = new URLSearchParams();
    for (const [k, v] of query.raw) {
      const lower = k.toLowerCase();
      if (lower !== "$skip" && lower !== "$top") next.append(k, v);
    }
    next.set("$skip", String(query.skip + take));
    if (query.top !== undefined) next.set("$top", String(wanted - take));
    page.nextQuery = next.toString();
  }
  return page;
}
