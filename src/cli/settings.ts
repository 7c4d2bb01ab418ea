/**
 * The shell's display settings, with the `sqlite3` shell's meaning: output
 * mode, headers, separators, the text shown for NULL, column widths.
 */

/** Output modes (`tabs` is `list` with a TAB separator, as in the sqlite3 shell). */
export const MODES = ['ascii', 'box', 'column', 'csv', 'html', 'insert', 'json', 'line', 'list', 'markdown', 'qbox', 'quote', 'table', 'tabs', 'tcl'] as const;
export type ModeName = (typeof MODES)[number];
/** `tabs` is `list` with a TAB separator; `qbox` is `box --quote`. */
export type Mode = Exclude<ModeName, 'tabs' | 'qbox'>;

/** Modes laid out in aligned columns: they read every row before printing. */
export const COLUMNAR_MODES: readonly Mode[] = ['column', 'box', 'table', 'markdown'];

export function isColumnar(mode: Mode): boolean {
  return COLUMNAR_MODES.includes(mode);
}

export interface Settings {
  mode: Mode;
  headers: boolean;
  /** `.headers` or `-header`/`-noheader` was given: `.mode column` then keeps it. */
  headersSet: boolean;
  colSeparator: string;
  rowSeparator: string;
  nullValue: string;
  /** The table name the `insert` mode writes into. */
  insertTable: string;
  /** Column widths from `.width` (0: automatic; negative: right-aligned). */
  widths: number[];
  /** Columnar modes: wrap values longer than this many characters (0: never). */
  wrap: number;
  /** Columnar modes: wrap at word boundaries. */
  wordWrap: boolean;
  /** Columnar modes: show values as SQL literals. */
  quote: boolean;
  timer: boolean;
  changes: boolean;
  echo: boolean;
  bail: boolean;
}

export function defaultSettings(): Settings {
  return {
    mode: 'list',
    headers: false,
    headersSet: false,
    colSeparator: '|',
    rowSeparator: '\n',
    nullValue: '',
    insertTable: 'table',
    widths: [],
    wrap: 0,
    wordWrap: false,
    quote: false,
    timer: false,
    changes: false,
    echo: false,
    bail: false,
  };
}

/** Options of `.mode` for the columnar modes. */
export interface ColumnarOptions {
  wrap?: number;
  wordWrap?: boolean;
  quote?: boolean;
}

/**
 * Switches the mode as `.mode NAME` does: separators follow the mode as in the
 * sqlite3 shell (`csv` → "," and CRLF, `list` → "|" and LF, `tabs` → TAB…),
 * and `column` turns headers on unless they were set explicitly. The columnar
 * modes wrap at 60 characters unless `wrap` says otherwise.
 */
export function setMode(s: Settings, name: ModeName, options: ColumnarOptions & { table?: string } = {}): void {
  switch (name) {
    case 'list':
      s.colSeparator = '|';
      s.rowSeparator = '\n';
      break;
    case 'csv':
      s.colSeparator = ',';
      s.rowSeparator = '\r\n';
      break;
    case 'tabs':
      s.colSeparator = '\t';
      break;
    case 'quote':
      s.colSeparator = ',';
      s.rowSeparator = '\n';
      break;
    case 'tcl':
      s.colSeparator = ' ';
      s.rowSeparator = '\n';
      break;
    case 'ascii':
      s.colSeparator = '\x1f';
      s.rowSeparator = '\x1e';
      break;
    case 'line':
    case 'column':
      s.rowSeparator = '\n';
      break;
    case 'insert':
      s.insertTable = options.table ?? 'table';
      break;
    default:
      break;
  }
  s.mode = name === 'tabs' ? 'list' : name === 'qbox' ? 'box' : name;
  if (isColumnar(s.mode)) {
    s.wrap = options.wrap ?? 60;
    s.wordWrap = options.wordWrap ?? false;
    s.quote = options.quote ?? name === 'qbox';
    if (s.mode === 'column' && !s.headersSet) s.headers = true;
  }
}

/**
 * The mode chosen by a command-line flag (`-csv`, `-json`, `-box`…): as in the
 * sqlite3 shell, fewer separators change than with `.mode`, the row separator
 * of `-csv` stays LF, and the columnar modes do not wrap.
 */
export function setModeFromFlag(s: Settings, name: ModeName): void {
  switch (name) {
    case 'csv':
      s.colSeparator = ',';
      break;
    case 'tabs':
      s.colSeparator = '\t';
      s.rowSeparator = '\n';
      break;
    case 'ascii':
      s.colSeparator = '\x1f';
      s.rowSeparator = '\x1e';
      break;
    case 'quote':
      s.colSeparator = ',';
      s.rowSeparator = '\n';
      break;
    default:
      break;
  }
  s.mode = name === 'tabs' ? 'list' : name === 'qbox' ? 'box' : name;
  s.wrap = 0;
  s.wordWrap = false;
  s.quote = name === 'qbox';
}
