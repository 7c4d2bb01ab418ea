/** Small DOM helpers: typed element look-up, element creation, a result grid. */

/** The element with `id`, which must exist and be of `type`. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`#${id} is missing or not a ${type.name}`);
  return el;
}

/** A new element with optional class and text. */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  if (className) el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function hex(bytes: Uint8Array, max: number): string {
  const shown = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, '0')).join('');
  return bytes.length > max ? `${shown}…` : shown;
}

/** How a SQL value is shown in a grid cell, and the cell's class (for alignment and colour). */
export function formatCell(v: unknown): { text: string; kind: string } {
  if (v === null || v === undefined) return { text: 'NULL', kind: 'null' };
  if (typeof v === 'number' || typeof v === 'bigint') return { text: String(v), kind: 'num' };
  if (v instanceof Uint8Array) return { text: `x'${hex(v, 24)}' (${v.length} B)`, kind: 'blob' };
  return { text: String(v), kind: 'text' };
}

/** Fills `table` with a header of `columns` and `rows`. */
export function renderGrid(table: HTMLTableElement, columns: readonly string[], rows: readonly (readonly unknown[])[]): void {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const c of columns) head.append(h('th', undefined, c));
  const body = table.createTBody();
  for (const r of rows) {
    const tr = body.insertRow();
    for (const v of r) {
      const { text, kind } = formatCell(v);
      const td = tr.insertCell();
      td.className = kind;
      td.textContent = text;
    }
  }
}

/** Human-readable byte count. */
export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
