/**
 * Where an import's CSV comes from: a file chosen from the computer (read in the browser, never sent
 * as is) or text pasted in. Reading a large file reports its progress.
 */
import { useId, useState } from 'react';

export function CsvSource({
  value,
  onChange,
  label = 'CSV text',
}: {
  value: string;
  onChange: (text: string) => void;
  label?: string;
}) {
  const id = useId();
  const [reading, setReading] = useState<number | null>(null);
  return (
    <div className="form">
      <div className="field">
        <label htmlFor={`${id}-file`}>CSV file</label>
        <input
          id={`${id}-file`}
          type="file"
          accept=".csv,text/csv,text/plain"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (!file) return;
            const reader = new FileReader();
            reader.onprogress = (ev) => ev.lengthComputable && setReading(ev.loaded / ev.total);
            reader.onload = () => {
              setReading(null);
              onChange(String(reader.result ?? ''));
            };
            reader.readAsText(file);
          }}
        />
      </div>
      {reading !== null && (
        <div className="progress">
          <label htmlFor={`${id}-read`}>Reading the file</label>
          <progress id={`${id}-read`} max={1} value={reading} />
        </div>
      )}
      <div className="field">
        <label htmlFor={`${id}-text`}>{label}</label>
        <textarea
          id={`${id}-text`}
          className="csv-text"
          value={value}
          spellCheck={false}
          onChange={(e) => onChange(e.target.value)}
        />
      </div>
    </div>
  );
}
