/**
 * Reading records for `.import`, byte by byte and chunk by chunk, with the
 * sqlite3 shell's rules. CSV: a field may be "quoted" ("" is a quote inside
 * it; separators and newlines inside are data), an unquoted field ends at
 * the separator and loses a CR before the LF. ASCII and the other modes:
 * no quoting at all.
 */

export interface ImportRecord {
  /** The fields; null for a field cut off by the end of the file. */
  readonly fields: Array<string | null>;
  /** The line the record starts on (1-based). */
  readonly line: number;
}

export interface RecordReaderOptions {
  /** Column and row separator bytes. */
  readonly colSep: number;
  readonly rowSep: number;
  /** CSV quoting rules (else plain separated fields). */
  readonly csv: boolean;
  /** Receives warnings such as `unescaped " character`, with the line and the record (0-based) they concern. */
  readonly warn: (line: number, message: string, record: number) => void;
}

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** A growable byte buffer for one field. */
class FieldBuffer {
  private bytes = Buffer.alloc(256);
  length = 0;

  push(b: number): void {
    if (this.length === this.bytes.length) {
      const bigger = Buffer.alloc(this.bytes.length * 2);
      this.bytes.copy(bigger);
      this.bytes = bigger;
    }
    this.bytes[this.length++] = b;
  }

  at(i: number): number {
    return this.bytes[i];
  }

  text(): string {
    const s = this.bytes.toString('utf8', 0, this.length);
    this.length = 0;
    return s;
  }
}

/** Parses `chunks` into records; `bytesRead` reports progress through the input. */
export async function* readRecords(
  chunks: AsyncIterable<Buffer>,
  o: RecordReaderOptions,
  bytesRead?: (n: number) => void,
): AsyncGenerator<ImportRecord> {
  const field = new FieldBuffer();
  let fields: Array<string | null> = [];
  let line = 1;
  let recordLine = 1;
  let fieldStart = true;
  let quoted = false;
  let quotedLine = 0;
  let pc = 0;
  let ppc = 0;
  let pending: ImportRecord[] = [];
  let total = 0;
  let records = 0;

  /** Ends the field; a quoted one loses its closing quote (and what follows it). */
  const endField = (term: number, stripToQuote: boolean): void => {
    if (stripToQuote) {
      let n = field.length - 1;
      while (n >= 0 && field.at(n) !== QUOTE) n--;
      field.length = Math.max(0, n);
    }
    fields.push(field.text());
    quoted = false;
    fieldStart = true;
    if (term !== o.colSep) {
      pending.push({ fields, line: recordLine });
      records++;
      fields = [];
      recordLine = line;
    }
  };

  for await (const chunk of chunks) {
    for (let k = 0; k < chunk.length; k++) {
      const c = chunk[k];
      if (fieldStart) {
        fieldStart = false;
        if (o.csv && c === QUOTE) {
          quoted = true;
          quotedLine = line;
          pc = ppc = 0;
          continue;
        }
      }
      if (quoted) {
        if (c === o.rowSep) line++;
        if (c === QUOTE && pc === QUOTE) {
          pc = 0;
          continue;
        }
        if ((c === o.colSep && pc === QUOTE) || (c === o.rowSep && pc === QUOTE) || (c === o.rowSep && pc === CR && ppc === QUOTE)) {
          endField(c, true);
          continue;
        }
        if (pc === QUOTE && c !== CR) o.warn(line, 'unescaped " character', records);
        field.push(c);
        ppc = pc;
        pc = c;
      } else if (c === o.colSep) {
        endField(c, false);
      } else if (c === o.rowSep) {
        line++;
        if (o.csv && o.rowSep === LF && field.length > 0 && field.at(field.length - 1) === CR) field.length--;
        endField(c, false);
      } else {
        field.push(c);
      }
    }
    total += chunk.length;
    bytesRead?.(total);
    if (pending.length > 0) {
      yield* pending;
      pending = [];
    }
  }
  // End of input.
  if (quoted) {
    if (pc !== QUOTE) o.warn(quotedLine, 'unterminated "-quoted field', records);
    endField(-1, pc === QUOTE);
  } else if (!fieldStart) {
    endField(-1, false);
  } else if (fields.length > 0) {
    // Cut off right after a separator: the last field is missing.
    fields.push(null);
    pending.push({ fields, line: recordLine });
  }
  yield* pending;
}
