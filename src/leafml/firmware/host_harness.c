/* Host harness for generated leafml C (rung 3 of the verification ladder).
 *
 *   leafml_host INPUTS OUTPUTS
 *
 * INPUTS holds raw input vectors of LEAFML_INPUT_SIZE bytes each, back to
 * back; leafml_invoke runs on each and its LEAFML_OUTPUT_SIZE output bytes
 * are appended to OUTPUTS.  A nonzero leafml_invoke status stops the run with
 * a message on stderr and exit status 1.
 *
 * Built with -DLEAFML_HARNESS_INPUT_SIZE / -DLEAFML_HARNESS_OUTPUT_SIZE, the
 * sizes the caller expects, so a mismatch with model.h fails the build. */
#include <stdint.h>
#include <stdio.h>

#include "model.h"

#if LEAFML_HARNESS_INPUT_SIZE != LEAFML_INPUT_SIZE
#error "the inputs' row length differs from LEAFML_INPUT_SIZE in model.h"
#endif
#if LEAFML_HARNESS_OUTPUT_SIZE != LEAFML_OUTPUT_SIZE
#error "the expected output size differs from LEAFML_OUTPUT_SIZE in model.h"
#endif

static int8_t input[LEAFML_INPUT_SIZE];
static int8_t output[LEAFML_OUTPUT_SIZE];

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUTS OUTPUTS\n", argv[0]);
        return 2;
    }
    FILE *in = fopen(argv[1], "rb");
    FILE *out = fopen(argv[2], "wb");
    if (in == NULL || out == NULL) {
        fprintf(stderr, "leafml host harness: cannot open %s\n", in == NULL ? argv[1] : argv[2]);
        return 2;
    }

    for (unsigned long index = 0;; ++index) {
        size_t got = fread(input, 1, sizeof input, in);
        if (got == 0 && feof(in)) {
            break;
        }
        if (got != sizeof input) {
            fprintf(stderr, "leafml host harness: input %lu is %zu bytes, not %zu\n", index, got,
                    sizeof input);
            return 2;
        }
        /* The model's element types vary (int8, uint8, float32); the harness
         * moves bytes. */
        int status = leafml_invoke((const void *)input, (void *)output);
        if (status != 0) {
            fprintf(stderr, "leafml host harness: leafml_invoke returned %d on input %lu\n", status,
                    index);
            return 1;
        }
        if (fwrite(output, 1, sizeof output, out) != sizeof output) {
            fprintf(stderr, "leafml host harness: cannot write %s\n", argv[2]);
            return 2;
        }
    }
    if (fclose(out) != 0) {
        fprintf(stderr, "leafml host harness: cannot write %s\n", argv[2]);
        return 2;
    }
    return 0;
}
