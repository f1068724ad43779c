/* Runs fuzz inputs through a fuzz target without libFuzzer: every regular file named on the command line, and
 * every regular file inside each directory named on it, is read and passed to LLVMFuzzerTestOneInput once.
 * A crash or sanitizer report fails the run; so does a directory with no inputs (a mistyped corpus path
 * would otherwise pass silently). */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
        cap *= 2;
        uint8_t *nb = realloc(buf, cap);
        if (!nb) {
            free(buf);
            buf = NULL;
        } else {
            buf = nb;
        }
    }
    int err = ferror(f);
    fclose(f);
    if (!buf || err) {
        fprintf(stderr, "replay: %s: cannot read\n", path);
        free(buf);
        return -1;
    }
    /* Hand libFuzzer-style exact-size memory so that an overread is caught by the sanitizer. */
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int path_join(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int main(int argc, char **argv)
{
    unsigned ran = 0;
    int failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE|DIR...\n", argv[0]);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) < 0) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        if (!S_ISDIR(st.st_mode)) {
            failed |= run_file(argv[i]) < 0;
            ran++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) {
            fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
            return 1;
        }
        unsigned here = 0;
        struct dirent *e;
        while ((e = readdir(d))) {
            char path[4096];
            if (e->d_name[0] == '.' || path_join(path, sizeof(path), argv[i], e->d_name) < 0)
                continue;
            if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
                continue;
            failed |= run_file(path) < 0;
            here++;
        }
        closedir(d);
        if (here == 0) {
            fprintf(stderr, "replay: %s: no inputs\n", argv[i]);
            return 1;
        }
        ran += here;
    }
    printf("replay: %u inputs%s\n", ran, failed ? ", some unreadable" : "");
    return failed ? 1 : 0;
}
