/**
 * A message across the top of a screen or a form. Errors are `role="alert"` (read out at once);
 * information and warnings are `role="status"` (read out politely).
 */
import type { ReactNode } from 'react';

export interface BannerProps {
  tone?: 'info' | 'warning' | 'error' | 'success';
  children: ReactNode;
  /** A button or link beside the text (Retry, Dismiss). */
  action?: ReactNode;
  className?: string;
}

export function Banner({ tone = 'info', children, action, className }: BannerProps) {
  return (
    <div
      role={tone === 'error' ? 'alert' : 'status'}
      className={`banner banner-${tone}${className ? ` ${className}` : ''}`}
    >
      <div className="banner-text">{children}</div>
      {action && <div className="banner-action">{action}</div>}
    </div>
  );
}
