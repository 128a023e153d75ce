/** The media plane (see the README's architecture section): filled in by the media issue. */
export {};
