/**
 * A small RFC 4180 CSV reader: comma-separated, fields optionally in double quotes ("" inside quotes
 * is a quote), CRLF or LF line ends, a UTF-8 byte-order mark ignored. Each record carries the line it
 * starts on so import errors can name the row a person sees in a spreadsheet or editor.
 */
export interface CsvRecord {
  /** 1-based line number where the record starts. */
  line: number;
  fields: string[];
}

export interface CsvResult {
  records: CsvRecord[];
  /** Structural problems (an unterminated quote, text after a closing quote), by line. */
  problems: Array<{ line: number; message: string }>;
}

/** Splits `text` into records. Blank lines are skipped. */
export function parseCsv(text: string): CsvResult {
  const records: CsvRecord[] = [];
  const problems: CsvResult['problems'] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    let field = '';
    let bad = false;
    for (;;) {
      if (i < n && text[i] === '"') {
        i++;
        let closed = false;
        while (i < n) {
          const ch = text[i];
          if (ch === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === '\n') line++;
          field += ch;
          i++;
        }
        if (!closed) {
          problems.push({ line: start, message: 'unterminated quoted field' });
          bad = true;
        } else if (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          problems.push({ line: start, message: 'text after a closing quote' });
          bad = true;
          while (i < n && text[i] !== ',' && text[i] !== '\n') i++;
        }
      } else {
        while (i < n && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') field += text[i++];
      }
      fields.push(field);
      field = '';
      if (i < n && text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (i < n && text[i] === '\r') i++;
    if (i < n && text[i] === '\n') {
      i++;
      line++;
    }
    const blank = fields.length === 1 && fields[0].trim() === '';
    if (!blank && !bad) records.push({ line: start, fields });
  }
  return { records, problems };
}
