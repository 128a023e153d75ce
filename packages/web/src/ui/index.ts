/** The shared UI kit: import from here (`../ui/index.ts`) in every screen. */
export { Button, type ButtonProps } from './Button.tsx';
export { TextField, type TextFieldProps } from './TextField.tsx';
export { SelectField, type SelectFieldProps } from './SelectField.tsx';
export { Dialog, type DialogProps } from './Dialog.tsx';
export { Banner, type BannerProps } from './Banner.tsx';
export { List, ListItem, type ListProps } from './List.tsx';
export { Loading, EmptyState } from './States.tsx';
export { PresenceBadge, PresenceDot, availabilityLabels, presenceLabel } from './PresenceBadge.tsx';
