/**
 * An attachment: images as a preview from their thumbnail (its size known before it loads, so nothing
 * jumps), fetched through the SDK with the session's token; other files as a named download button.
 */
import { useEffect, useState } from 'react';
import type { Attachment } from '@parley/protocol';
import { Button } from '../ui/index.ts';
import { useClient } from '../session/use-session.ts';
import { errorSentence } from '../errors/messages.ts';
import type { ChatStore } from './chat-store.ts';

export function AttachmentView({ attachment: a }: { attachment: Attachment; store: ChatStore }) {
  const client = useClient();
  const thumb = a.image?.thumbnail ?? null;
  const [src, setSrc] = useState<string | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const [downloadError, setDownloadError] = useState<string | null>(null);

  useEffect(() => {
    if (!thumb) return;
    let url: string | null = null;
    let stale = false;
    client.chat.fetchFile(a.id, { thumbnail: true }).then(
      (blob) => {
        if (stale) return;
        url = URL.createObjectURL(blob);
        setSrc(url);
      },
      (err: unknown) => !stale && setPreviewError(errorSentence(err)),
    );
    return () => {
      stale = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [client, a.id, thumb]);

  const download = async () => {
    setDownloadError(null);
    try {
      const blob = await client.chat.fetchFile(a.id);
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = a.name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (err) {
      setDownloadError(errorSentence(err));
    }
  };

  return (
    <figure className="attachment">
      {thumb && !previewError && (
        <div
          className="attachment-preview"
          style={{ aspectRatio: `${thumb.width} / ${thumb.height}`, maxWidth: thumb.width }}
        >
          {src ? (
            <img src={src} alt={a.name} width={thumb.width} height={thumb.height} />
          ) : (
            <span className="visually-hidden">Loading the preview…</span>
          )}
        </div>
      )}
      <figcaption>
        <Button variant="ghost" onClick={() => void download()} aria-label={`Download ${a.name}`}>
          {a.name} <span className="muted">({formatSize(a.size)})</span>
        </Button>
        {previewError && <span className="muted"> {previewError}</span>}
        {downloadError && <span className="field-error"> {downloadError}</span>}
      </figcaption>
    </figure>
  );
}

export function formatSize(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
