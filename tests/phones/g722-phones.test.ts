/**
 * Issue 17 item 2: G.722 between two phones. Bob's phone offers G722 first; Parley offers Carol's phone
 * what Bob's can pass through (G722, then G.711) and answers Bob with Carol's choice: two G.722 phones
 * talk G.722 on both legs (passed through, never decoded), a G.711-only callee makes the call G.711 on
 * both legs (each phone says which codec it encodes); audio both ways, by energy and by Carol's tone.
 *
 * The one-way audio an earlier build had: Bob's leg is answered (G.711) when his INVITE arrives and
 * re-made with G.722 once Carol answers, but it started sending silence in PCMU at once. Bob's
 * baresip took its decoder from those packets before the 200, and on the switch to G.722 at the 200
 * rebuilt its receive path without its filters (the recorder): Carol's audio arrived and was played
 * but never recorded. Phone legs now send nothing until joined (`paced: false`).
 *
 * The steps are in g722-steps.ts, so rtpengine-g722.test.ts runs the same ones on the rtpengine driver.
 */
import { g722Tests } from './g722-steps.ts';

g722Tests();
