/**
 * The only way the page makes elements: text always goes in through textContent (never innerHTML), and
 * links only ever get relative paths built by `fileHref`, so device-supplied text stays inert.
 */

type Attrs = Record<string, string | number | boolean | null | undefined>;

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = String(v);
    else if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === "string" ? document.createTextNode(c) : c);
  }
  return node;
}

/** A relative URL for a path inside the run folder (every segment percent-encoded: no scheme, no query). */
export function fileHref(relPath: string): string {
  return relPath
    .split("/")
    .filter((s) => s !== "" && s !== "." && s !== "..")
    .map(encodeURIComponent)
    .join("/");
}

export function fileLink(relPath: string, label?: string): HTMLAnchorElement {
  const a = el("a", { href: fileHref(relPath), class: "file" });
  a.textContent = label ?? relPath;
  return a;
}

export function clear(node: Element): void {
  while (node.firstChild) node.removeChild(node.firstChild);
}
