/** The operator console's routes (access: 'operator'). */
import type { AppRoute } from '../app/route-types.ts';

export const operatorRoutes: AppRoute[] = [];
