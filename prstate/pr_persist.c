/* The APTPL state file (SPC-4 5.13.4) and the JSON form of a PR state.
 *
 * The file is human-readable JSON with a format name, a version, the LU identity it belongs to and an FNV-1a
 * checksum over its canonical form (compact, sorted keys, without the checksum member). It is replaced
 * crash-safely: write PATH.tmp, fsync it, rename it over PATH, fsync the directory; a crash leaves either the old
 * or the new file, never a torn one. The loader refuses anything it does not fully understand.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prstate/pr_internal.h"
#include "common/prt_hex.h"

#define PR_FILE_FORMAT "prtarget-pr-state"
#define PR_FILE_VERSION 1
#define PR_FILE_MAX (16u << 20)

static uint64_t pr_fnv1a64(const char *s)
{
    uint64_t h = 14695981039346656037ull;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void pr_isid_str(const uint8_t isid[6], char out[15])
{
    snprintf(out, 15, "0x%02x%02x%02x%02x%02x%02x", isid[0], isid[1], isid[2], isid[3], isid[4], isid[5]);
}

static json_t *pr_nexus_json(const struct pr_itn *id)
{
    char isid[15], tid[PR_INAME_MAX + 24];
    pr_isid_str(id->isid, isid);
    snprintf(tid, sizeof(tid), "%s,i,%s", id->iname, isid);
    return json_pack("{s:s, s:s, s:s, s:i}", "initiator", id->iname, "isid", isid, "transport_id", tid,
                     "target_port", (json_int_t)id->rtpi);
}

/* The canonical text the checksum covers. */
static char *pr_canonical(json_t *obj) { return json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS); }

static json_t *pr_state_json(const struct pr_state *st)
{
    json_t *regs = json_array();
    if (!regs)
        return NULL;
    for (uint32_t i = 0; i < st->regs_cap; i++) {
        if (!(st->regs[i].flags & PR_REG_REGISTERED))
            continue;
        const struct pr_itn *id = pr_itn_get(st->tab, i);
        json_t *r = id ? pr_nexus_json(id) : NULL;
        char key[19];
        snprintf(key, sizeof(key), "0x%016" PRIx64, st->regs[i].key);
        if (!r || json_object_set_new(r, "key", json_string(key)) != 0 ||
            json_object_set_new(r, "all_tg_pt", json_boolean(st->regs[i].flags & PR_REG_ALL_TG_PT)) != 0 ||
            json_array_append_new(regs, r) != 0) {
            json_decref(r);
            json_decref(regs);
            return NULL;
        }
    }
    json_t *resv = json_null();
    if (st->reserved) {
        const struct pr_itn *h = pr__type_is_ar(st->type) ? NULL : pr_itn_get(st->tab, st->holder);
        resv = json_pack("{s:i, s:i, s:o}", "type", (json_int_t)st->type, "scope", (json_int_t)st->scope, "holder",
                         h ? pr_nexus_json(h) : json_null());
    }
    json_t *o = json_pack("{s:s, s:i, s:s?, s:i, s:b, s:s, s:o, s:o}", "format", PR_FILE_FORMAT, "version",
                          (json_int_t)PR_FILE_VERSION, "lu", st->lu_id, "generation", (json_int_t)st->generation,
                          "aptpl", (int)st->aptpl, "profile", st->profile, "registrations", regs, "reservation",
                          resv ? resv : json_null());
    if (!o)
        return NULL;
    /* Registrations made by device name (format 00b TransportIDs) for ports that have not logged in yet; the
     * member is left out when there are none, so such files read exactly as before. */
    if (st->n_devregs) {
        json_t *dv = json_array();
        if (!dv || json_object_set_new(o, "device_registrations", dv) != 0) {
            json_decref(o);
            return NULL;
        }
        for (uint32_t i = 0; i < st->n_devregs; i++) {
            char key[19];
            snprintf(key, sizeof(key), "0x%016" PRIx64, st->devregs[i].key);
            if (json_array_append_new(dv, json_pack("{s:s, s:s, s:i}", "initiator", st->devregs[i].iname, "key", key,
                                                    "target_port", (json_int_t)st->devregs[i].rtpi)) != 0) {
                json_decref(o);
                return NULL;
            }
        }
    }
    char *canon = pr_canonical(o);
    if (!canon) {
        json_decref(o);
        return NULL;
    }
    char sum[32];
    snprintf(sum, sizeof(sum), "fnv1a64:%016" PRIx64, pr_fnv1a64(canon));
    free(canon);
    json_object_set_new(o, "checksum", json_string(sum));
    return o;
}

char *pr_state_to_json(const struct pr_state *st)
{
    json_t *o = pr_state_json(st);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

/* ---- loading ------------------------------------------------------------------------------------------------ */

static int pr_fail(char *err, size_t errlen, const char *what, const char *field, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (err && errlen)
        snprintf(err, errlen, "%s: field '%s': %s", what, field, msg);
    return -EINVAL;
}

static bool pr_parse_isid(const char *s, uint8_t isid[6])
{
    if (!s || strlen(s) != 14 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    for (int i = 0; i < 6; i++) {
        int hi = prt_hexval(s[2 + 2 * i]), lo = prt_hexval(s[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return false;
        isid[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static bool pr_parse_key(const char *s, uint64_t *key)
{
    if (!s || strlen(s) < 3 || strlen(s) > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s + 2, &end, 16);
    if (*end || errno)
        return false;
    *key = v;
    return true;
}

/* Resolve a nexus object to an interned id; field names the member for messages. */
static int pr_nexus_from_json(struct pr_state *st, json_t *n, const char *what, const char *field, uint32_t *id,
                              char *err, size_t errlen)
{
    char f[96];
    json_t *ini = json_object_get(n, "initiator"), *isid = json_object_get(n, "isid"),
           *port = json_object_get(n, "target_port");
    uint8_t b[6];
    if (!json_is_string(ini) || json_string_length(ini) == 0 || json_string_length(ini) >= PR_INAME_MAX) {
        snprintf(f, sizeof(f), "%s.initiator", field);
        return pr_fail(err, errlen, what, f, "expected an iSCSI name");
    }
    if (!json_is_string(isid) || !pr_parse_isid(json_string_value(isid), b)) {
        snprintf(f, sizeof(f), "%s.isid", field);
        return pr_fail(err, errlen, what, f, "expected 0x and 12 hex digits");
    }
    if (!json_is_integer(port) || json_integer_value(port) < 1 ||
        json_integer_value(port) > (json_int_t)st->tab->n_ports) {
        snprintf(f, sizeof(f), "%s.target_port", field);
        return pr_fail(err, errlen, what, f, "expected a relative target port identifier 1..%u",
                       (unsigned)st->tab->n_ports);
    }
    *id = pr_itn_intern(st->tab, json_string_value(ini), b, (uint16_t)json_integer_value(port));
    if (*id == PR_ITN_NONE) {
        snprintf(f, sizeof(f), "%s", field);
        return pr_fail(err, errlen, what, f, "cannot intern the I_T nexus");
    }
    return 0;
}

static int pr_load_json(struct pr_state *st, json_t *o, const char *what, bool power_on, char *err, size_t errlen)
{
    if (!json_is_object(o))
        return pr_fail(err, errlen, what, "(top)", "expected an object");
    json_t *fmt = json_object_get(o, "format");
    if (!json_is_string(fmt) || strcmp(json_string_value(fmt), PR_FILE_FORMAT) != 0)
        return pr_fail(err, errlen, what, "format", "expected \"%s\"", PR_FILE_FORMAT);
    json_t *ver = json_object_get(o, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != PR_FILE_VERSION)
        return pr_fail(err, errlen, what, "version", "expected %d", PR_FILE_VERSION);
    json_t *sum = json_object_get(o, "checksum");
    if (!json_is_string(sum))
        return pr_fail(err, errlen, what, "checksum", "missing");
    json_t *copy = json_deep_copy(o);
    if (!copy)
        return -ENOMEM;
    json_object_del(copy, "checksum");
    char *canon = pr_canonical(copy);
    json_decref(copy);
    if (!canon)
        return -ENOMEM;
    char want[32];
    snprintf(want, sizeof(want), "fnv1a64:%016" PRIx64, pr_fnv1a64(canon));
    free(canon);
    if (strcmp(want, json_string_value(sum)) != 0)
        return pr_fail(err, errlen, what, "checksum", "mismatch (file is corrupt or was edited)");
    json_t *lu = json_object_get(o, "lu");
    if (st->lu_id && (!json_is_string(lu) || strcmp(json_string_value(lu), st->lu_id) != 0))
        return pr_fail(err, errlen, what, "lu", "belongs to LU \"%s\", not \"%s\"",
                       json_is_string(lu) ? json_string_value(lu) : "(none)", st->lu_id);
    json_t *gen = json_object_get(o, "generation");
    if (!json_is_integer(gen) || json_integer_value(gen) < 0 || json_integer_value(gen) > UINT32_MAX)
        return pr_fail(err, errlen, what, "generation", "expected an unsigned 32-bit integer");
    json_t *aptpl = json_object_get(o, "aptpl");
    if (!json_is_boolean(aptpl))
        return pr_fail(err, errlen, what, "aptpl", "expected true or false");
    json_t *prof = json_object_get(o, "profile");
    if (prof && !json_is_string(prof))
        return pr_fail(err, errlen, what, "profile", "expected a profile name");
    struct pr_caps caps = st->caps;
    char profile[sizeof(st->profile)];
    strcpy(profile, st->profile);
    if (prof) {
        const struct pr_caps *pc = pr__profile_lookup(json_string_value(prof));
        if (!pc)
            return pr_fail(err, errlen, what, "profile", "unknown profile \"%s\"", json_string_value(prof));
        caps = *pc;
        snprintf(profile, sizeof(profile), "%s", json_string_value(prof));
    }
    json_t *regs = json_object_get(o, "registrations");
    if (!json_is_array(regs))
        return pr_fail(err, errlen, what, "registrations", "expected an array");
    size_t n = json_array_size(regs);
    if (n > st->max_regs)
        return pr_fail(err, errlen, what, "registrations", "%zu registrations exceed the limit %u", n,
                       st->max_regs);
    uint32_t *ids = calloc(n ? n : 1, sizeof(*ids));
    uint64_t *keys = calloc(n ? n : 1, sizeof(*keys));
    bool *atp = calloc(n ? n : 1, sizeof(*atp));
    int rc = 0;
    if (!ids || !keys || !atp) {
        rc = -ENOMEM;
        goto out;
    }
    uint32_t max_id = 0;
    for (size_t i = 0; i < n; i++) {
        char f[64];
        json_t *r = json_array_get(regs, i);
        snprintf(f, sizeof(f), "registrations[%zu]", i);
        if (!json_is_object(r)) {
            rc = pr_fail(err, errlen, what, f, "expected an object");
            goto out;
        }
        if ((rc = pr_nexus_from_json(st, r, what, f, &ids[i], err, errlen)) != 0)
            goto out;
        json_t *k = json_object_get(r, "key"), *a = json_object_get(r, "all_tg_pt");
        if (!json_is_string(k) || !pr_parse_key(json_string_value(k), &keys[i]) || keys[i] == 0) {
            snprintf(f, sizeof(f), "registrations[%zu].key", i);
            rc = pr_fail(err, errlen, what, f, "expected a nonzero 64-bit key in hex (0x...)");
            goto out;
        }
        if (a && !json_is_boolean(a)) {
            snprintf(f, sizeof(f), "registrations[%zu].all_tg_pt", i);
            rc = pr_fail(err, errlen, what, f, "expected true or false");
            goto out;
        }
        atp[i] = json_is_true(a);
        for (size_t j = 0; j < i; j++) {
            if (ids[j] == ids[i]) {
                rc = pr_fail(err, errlen, what, f, "the same I_T nexus is registered twice");
                goto out;
            }
        }
        if (ids[i] > max_id)
            max_id = ids[i];
    }
    json_t *resv = json_object_get(o, "reservation");
    bool reserved = false;
    uint8_t type = 0, scope = 0;
    uint32_t holder = PR_ITN_NONE;
    if (resv && !json_is_null(resv)) {
        json_t *t = json_object_get(resv, "type"), *sc = json_object_get(resv, "scope"),
               *h = json_object_get(resv, "holder");
        if (!json_is_object(resv)) {
            rc = pr_fail(err, errlen, what, "reservation", "expected an object or null");
            goto out;
        }
        if (!json_is_integer(t) || json_integer_value(t) < 0 || json_integer_value(t) > 15 ||
            !(caps.type_mask & (1u << json_integer_value(t)))) {
            rc = pr_fail(err, errlen, what, "reservation.type", "expected a supported type (1,3,5,6,7,8)");
            goto out;
        }
        if (!json_is_integer(sc) || json_integer_value(sc) != PR_SCOPE_LU) {
            rc = pr_fail(err, errlen, what, "reservation.scope", "expected 0 (LU_SCOPE)");
            goto out;
        }
        type = (uint8_t)json_integer_value(t);
        scope = PR_SCOPE_LU;
        if (pr__type_is_ar(type)) {
            if (n == 0) {
                rc = pr_fail(err, errlen, what, "reservation", "All Registrants reservation without registrants");
                goto out;
            }
        } else {
            if (!json_is_object(h)) {
                rc = pr_fail(err, errlen, what, "reservation.holder", "expected the holder's I_T nexus");
                goto out;
            }
            if ((rc = pr_nexus_from_json(st, h, what, "reservation.holder", &holder, err, errlen)) != 0)
                goto out;
            bool found = false;
            for (size_t i = 0; i < n; i++)
                found |= ids[i] == holder;
            if (!found) {
                rc = pr_fail(err, errlen, what, "reservation.holder", "the holder is not registered");
                goto out;
            }
        }
        reserved = true;
    }
    json_t *dv = json_object_get(o, "device_registrations");
    size_t ndv = dv ? json_array_size(dv) : 0;
    if (dv && !json_is_array(dv)) {
        rc = pr_fail(err, errlen, what, "device_registrations", "expected an array");
        goto out;
    }
    for (size_t i = 0; i < ndv; i++) {
        char f[64];
        json_t *d = json_array_get(dv, i), *ini = json_object_get(d, "initiator"), *k = json_object_get(d, "key"),
               *port = json_object_get(d, "target_port");
        uint64_t dkey;
        snprintf(f, sizeof(f), "device_registrations[%zu]", i);
        if (!json_is_object(d) || !json_is_string(ini) || json_string_length(ini) == 0 ||
            json_string_length(ini) >= PR_INAME_MAX || !json_is_string(k) ||
            !pr_parse_key(json_string_value(k), &dkey) || dkey == 0 || !json_is_integer(port) ||
            json_integer_value(port) < 0 || json_integer_value(port) > (json_int_t)st->tab->n_ports) {
            rc = pr_fail(err, errlen, what, f, "expected {initiator, nonzero key, target_port 0..%u}",
                         (unsigned)st->tab->n_ports);
            goto out;
        }
    }
    if (n && pr__regs_reserve(st, max_id) != 0) {
        rc = -ENOMEM;
        goto out;
    }
    /* Everything is valid: replace the state. */
    bool keep = !power_on || json_is_true(aptpl);
    if (st->regs)
        memset(st->regs, 0, (size_t)st->regs_cap * sizeof(*st->regs));
    st->n_regs = 0;
    st->reserved = false;
    st->holder = PR_ITN_NONE;
    st->type = 0;
    st->scope = 0;
    st->caps = caps;
    strcpy(st->profile, profile);
    st->lost = false;
    st->spc2_holder = PR_ITN_NONE;
    st->n_devregs = 0;
    /* SPC-4 5.13.4: only registrations made with APTPL=1 survive a power loss. */
    if (keep) {
        for (size_t i = 0; i < ndv; i++) {
            json_t *d = json_array_get(dv, i);
            uint64_t dkey;
            pr_parse_key(json_string_value(json_object_get(d, "key")), &dkey);
            if (pr__devreg_add(st, json_string_value(json_object_get(d, "initiator")), dkey,
                               (uint16_t)json_integer_value(json_object_get(d, "target_port"))) != 0) {
                rc = -ENOMEM;
                goto out;
            }
        }
        for (size_t i = 0; i < n; i++)
            pr__register(st, ids[i], keys[i], atp[i]);
        if (reserved) {
            st->reserved = true;
            st->type = type;
            st->scope = scope;
            st->holder = pr__type_is_ar(type) ? ids[0] : holder;
        }
    }
    st->aptpl = keep && json_is_true(aptpl);
    /* SPC-4 6.15.2: PRgeneration is zero after power on; the control socket restores it as it was. */
    st->generation = power_on ? 0 : (uint32_t)json_integer_value(gen);
out:
    free(ids);
    free(keys);
    free(atp);
    return rc;
}

int pr_state_from_json(struct pr_state *st, const char *text, const char *what, char *err, size_t errlen)
{
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        if (err && errlen)
            snprintf(err, errlen, "%s: field '(json)': line %d: %s", what, je.line, je.text);
        return -EINVAL;
    }
    int rc = pr_load_json(st, o, what, false, err, errlen);
    json_decref(o);
    return rc;
}

int pr_state_attach_file(struct pr_state *st, const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        if (err && errlen)
            snprintf(err, errlen, "(state file): empty path");
        return -EINVAL;
    }
    char *dup = strdup(path);
    if (!dup)
        return -ENOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT) {
            free(st->path);
            st->path = dup;
            return 0;
        }
        free(dup);
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
        return -e;
    }
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (off_t)PR_FILE_MAX) {
        close(fd);
        free(dup);
        if (err && errlen)
            snprintf(err, errlen, "%s: not a regular file of at most %u bytes", path, PR_FILE_MAX);
        return -EINVAL;
    }
    char *text = malloc((size_t)sb.st_size + 1);
    size_t got = 0;
    while (text && got < (size_t)sb.st_size) {
        ssize_t r = read(fd, text + got, (size_t)sb.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (!text || got != (size_t)sb.st_size) {
        free(text);
        free(dup);
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read", path);
        return text ? -EIO : -ENOMEM;
    }
    text[got] = '\0';
    json_error_t je;
    json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    free(text);
    if (!o) {
        free(dup);
        if (err && errlen)
            snprintf(err, errlen, "%s: field '(json)': line %d: %s", path, je.line, je.text);
        return -EINVAL;
    }
    int rc = pr_load_json(st, o, path, true, err, errlen);
    json_decref(o);
    if (rc != 0) {
        free(dup);
        return rc;
    }
    free(st->path);
    st->path = dup;
    return 0;
}

/* ---- writing ----------------------------------------------------------------------------------------------------- */

static int pr_write_all(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return -errno;
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

int pr__persist_write(const struct pr_state *st)
{
    if (!st->path)
        return -EINVAL;
    char *text = pr_state_to_json(st);
    if (!text)
        return -ENOMEM;
    size_t plen = strlen(st->path);
    char *tmp = malloc(plen + 5);
    char *dir = strdup(st->path);
    int rc = 0;
    if (!tmp || !dir) {
        rc = -ENOMEM;
        goto out;
    }
    memcpy(tmp, st->path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = pr_write_all(fd, text, strlen(text));
    if (rc == 0)
        rc = pr_write_all(fd, "\n", 1);
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, st->path) != 0)
        rc = -errno;
    if (rc != 0) {
        unlink(tmp);
        goto out;
    }
    /* The rename is durable only once the directory entry is: fsync the directory. */
    char *slash = strrchr(dir, '/');
    if (slash == dir)
        dir[1] = '\0';
    else if (slash)
        *slash = '\0';
    else
        strcpy(dir, ".");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        rc = -errno;
        goto out;
    }
    if (fsync(dfd) != 0)
        rc = -errno;
    close(dfd);
out:
    free(text);
    free(tmp);
    free(dir);
    return rc;
}

int pr_state_save(struct pr_state *st)
{
    return st->path ? pr__persist_write(st) : 0;
}
