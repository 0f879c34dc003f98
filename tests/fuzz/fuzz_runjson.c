/*
 * fuzz_runjson.c — libFuzzer target: the run.json reader of `pmapstorm gate`
 * (and `export`), gate_doc_parse(), fed any bytes as a baseline would be.
 *
 * The reader's contract (bench/compare/gate.h): on any input it returns 0
 * with a document, or EINVAL (ENOMEM: out of memory) with a message, never
 * reads past the buffer, asserts, crashes or leaks.  A document it accepts
 * then goes through gate_compare() against itself — the matching, the
 * statistics and the verdicts — which must succeed or refuse with EINVAL, and must
 * find no regression and nothing missing: a run never regresses against
 * itself, and lacks nothing of its own (an interrupted run is the one gap).
 *
 * Seed corpus: tests/fuzz/runjson/ (small run.json files from real runs,
 * a baseline, and broken variants).  libFuzzer: llvm.org/docs/LibFuzzer.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "compare/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gate_doc doc;
	char err[512];
	int rc = gate_doc_parse((const char *)data, size, "fuzz.json", &doc, err, sizeof(err));
	if (rc != 0) {
		if ((rc != EINVAL && rc != ENOMEM) || err[0] == '\0')
			abort(); /* a refusal always says why */
		return 0;
	}
	struct gate_options o = {.go_threshold = 0.05, .go_alpha = 0.05};
	struct gate_result r;
	rc = gate_compare(&doc, &doc, &o, &r, err, sizeof(err));
	if (rc == 0) {
		if (r.gr_failures != 0)
			abort(); /* the same run cannot regress against itself */
		for (unsigned i = 0; i < r.gr_ngaps; i++)
			if (r.gr_gaps[i].gg_point != NULL || !doc.gd_interrupted)
				abort(); /* nor lack a point or metric of its own */
		gate_result_free(&r);
	} else if (rc != EINVAL && rc != ENOMEM) {
		abort();
	}
	gate_doc_free(&doc);
	return 0;
}
