/** The chat screens' routes (webchat fills this in). */
import type { AppRoute } from '../app/route-types.ts';

export const chatRoutes: AppRoute[] = [];
