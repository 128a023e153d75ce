/**
 * Issue 16: DTMF both ways between a browser and a baresip desk phone on the embedded media driver
 * (the steps are in dtmf-steps.ts, so another driver's test runs the same ones with its settings).
 */
import { dtmfTests } from './dtmf-steps.ts';

dtmfTests('embedded media driver');
