/* ff_avro_codec: Avro binary decoding with schema resolution into C structs, encoding, JSON. */
#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_avro.h"

/* A reader that never goes past its end. */
typedef struct rd_s {
    const unsigned char *p;
    const unsigned char *end;
    ff_dec_err_t *err;
} rd_t;

static const char *const dec_status_names[FF_DEC__COUNT] = {
    [FF_DEC_OK] = "OK",
    [FF_DEC_EMPTY] = "EMPTY",
    [FF_DEC_BAD_MAGIC] = "BAD_MAGIC",
    [FF_DEC_UNKNOWN_SCHEMA] = "UNKNOWN_SCHEMA",
    [FF_DEC_SCHEMA_MISMATCH] = "SCHEMA_MISMATCH",
    [FF_DEC_TRUNCATED] = "TRUNCATED",
    [FF_DEC_MALFORMED] = "MALFORMED",
};

const char *ff_dec_status_name(ff_dec_status_t status)
{
    return status < FF_DEC__COUNT ? dec_status_names[status] : "UNKNOWN";
}

static int rd_fail(rd_t *r, ff_dec_status_t status, const char *fmt, const char *arg)
{
    if (r->err->status == FF_DEC_OK) {
        r->err->status = status;
        snprintf(r->err->msg, sizeof r->err->msg, fmt, arg ? arg : "");
    }
    return -1;
}

static int rd_long(rd_t *r, int64_t *out)
{
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
        unsigned char b;
        if (r->p >= r->end)
            return rd_fail(r, FF_DEC_TRUNCATED, "body ends inside a number%s", NULL);
        b = *r->p++;
        if (shift == 63 && (b & 0x7e))
            return rd_fail(r, FF_DEC_MALFORMED, "varint overflows 64 bits%s", NULL);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
        if (shift > 63)
            return rd_fail(r, FF_DEC_MALFORMED, "varint longer than 10 bytes%s", NULL);
    }
    *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
    return 0;
}

static int rd_int(rd_t *r, int64_t *out)
{
    if (rd_long(r, out) == -1)
        return -1;
    if (*out < INT32_MIN || *out > INT32_MAX)
        return rd_fail(r, FF_DEC_MALFORMED, "int out of 32-bit range%s", NULL);
    return 0;
}

static int rd_fixed(rd_t *r, size_t n, const unsigned char **out)
{
    if ((size_t)(r->end - r->p) < n)
        return rd_fail(r, FF_DEC_TRUNCATED, "body ends inside a value%s", NULL);
    *out = r->p;
    r->p += n;
    return 0;
}

static int rd_float(rd_t *r, double *out)
{
    const unsigned char *b;
    uint32_t u;
    float f;
    if (rd_fixed(r, 4, &b) == -1)
        return -1;
    u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    memcpy(&f, &u, 4);
    *out = f;
    return 0;
}

static int rd_double(rd_t *r, double *out)
{
    const unsigned char *b;
    uint64_t u = 0;
    if (rd_fixed(r, 8, &b) == -1)
        return -1;
    for (int i = 7; i >= 0; i--)
        u = u << 8 | b[i];
    memcpy(out, &u, 8);
    return 0;
}

static int rd_bytes(rd_t *r, const unsigned char **p, size_t *n)
{
    int64_t len;
    if (rd_long(r, &len) == -1)
        return -1;
    if (len < 0)
        return rd_fail(r, FF_DEC_MALFORMED, "negative string length%s", NULL);
    if ((uint64_t)len > (uint64_t)(r->end - r->p))
        return rd_fail(r, FF_DEC_TRUNCATED, "string runs past the end of the body%s", NULL);
    *p = r->p;
    *n = (size_t)len;
    r->p += len;
    return 0;
}

/* An array or map block count. A negative count is followed by the block's
 * byte size, which we read and ignore. */
static int rd_block_count(rd_t *r, int64_t *count)
{
    if (rd_long(r, count) == -1)
        return -1;
    if (*count < 0) {
        int64_t bytes;
        if (*count == INT64_MIN)
            return rd_fail(r, FF_DEC_MALFORMED, "bad block count%s", NULL);
        *count = -*count;
        if (rd_long(r, &bytes) == -1)
            return -1;
    }
    /* Every element takes at least one byte except nulls: a count beyond
     * the remaining bytes is corrupt data, not a reason to allocate. */
    if (*count > (int64_t)(r->end - r->p) && *count > 4096)
        return rd_fail(r, FF_DEC_MALFORMED, "array block count larger than the body%s", NULL);
    return 0;
}

static int skip_value(rd_t *r, const ff_av_type_t *t, int depth)
{
    int64_t n;
    const unsigned char *p;
    size_t len;
    if (depth > 64)
        return rd_fail(r, FF_DEC_MALFORMED, "value nested too deeply%s", NULL);
    switch (t->kind) {
    case FF_AV_NULL:
        return 0;
    case FF_AV_BOOLEAN:
        return rd_fixed(r, 1, &p);
    case FF_AV_INT:
    case FF_AV_LONG:
    case FF_AV_ENUM:
        return rd_long(r, &n);
    case FF_AV_FLOAT:
        return rd_fixed(r, 4, &p);
    case FF_AV_DOUBLE:
        return rd_fixed(r, 8, &p);
    case FF_AV_BYTES:
    case FF_AV_STRING:
        return rd_bytes(r, &p, &len);
    case FF_AV_FIXED:
        return rd_fixed(r, t->fixed_size, &p);
    case FF_AV_RECORD:
        for (size_t i = 0; i < t->n; i++)
            if (skip_value(r, t->fields[i].type, depth + 1) == -1)
                return -1;
        return 0;
    case FF_AV_UNION:
        if (rd_long(r, &n) == -1)
            return -1;
        if (n < 0 || (size_t)n >= t->n)
            return rd_fail(r, FF_DEC_MALFORMED, "union branch out of range%s", NULL);
        return skip_value(r, t->branches[n], depth + 1);
    case FF_AV_ARRAY:
    case FF_AV_MAP:
        for (;;) {
            if (rd_block_count(r, &n) == -1)
                return -1;
            if (n == 0)
                return 0;
            while (n-- > 0) {
                if (t->kind == FF_AV_MAP && rd_bytes(r, &p, &len) == -1)
                    return -1;
                if (skip_value(r, t->items, depth + 1) == -1)
                    return -1;
            }
        }
    }
    return rd_fail(r, FF_DEC_MALFORMED, "unknown type%s", NULL);
}

/* ---- plans ------------------------------------------------------------ */

typedef enum {
    P_STORE_NULL, /* writer null into an optional reader field */
    P_SCALAR,     /* writer primitive into a binding */
    P_UNION,      /* writer union: branch plans */
    P_ENUM,
    P_ARRAY,
    P_RECORD,
} plan_op_t;

typedef struct rec_step_s {
    int fi;                   /* reader field index, -1: skip */
    const ff_av_type_t *wtype;
    ff_av_plan_t *plan;
} rec_step_t;

typedef struct rec_default_s {
    int fi;
    bool is_null;
    int64_t i;
    double d;
    char *s;
} rec_default_t;

struct ff_av_plan_s {
    plan_op_t op;
    const ff_av_type_t *w;
    ff_ftype_t ft;
    /* P_UNION */
    ff_av_plan_t **branches;
    char **branch_err;
    size_t nbranches;
    /* P_ENUM: writer symbol index -> reader index, -1: not in reader */
    int *enum_map;
    size_t nmap;
    char *enum_name;
    /* P_ARRAY */
    ff_av_plan_t *items;
    /* P_RECORD */
    const ff_rdesc_t *desc;
    rec_step_t *steps;
    size_t nsteps;
    rec_default_t *defaults;
    size_t ndefaults;
};

typedef struct plan_ctx_s {
    char *errstr;
    size_t errstr_size;
    const char *path; /* field being resolved, for messages */
} plan_ctx_t;

static ff_av_plan_t *plan_alloc(plan_op_t op, const ff_av_type_t *w, ff_ftype_t ft)
{
    ff_av_plan_t *p = ff_calloc(1, sizeof(*p));
    p->op = op;
    p->w = w;
    p->ft = ft;
    return p;
}

void ff_av_plan_destroy(ff_av_plan_t *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nbranches; i++) {
        ff_av_plan_destroy(p->branches[i]);
        free(p->branch_err[i]);
    }
    free(p->branches);
    free(p->branch_err);
    free(p->enum_map);
    free(p->enum_name);
    ff_av_plan_destroy(p->items);
    for (size_t i = 0; i < p->nsteps; i++)
        ff_av_plan_destroy(p->steps[i].plan);
    free(p->steps);
    for (size_t i = 0; i < p->ndefaults; i++)
        free(p->defaults[i].s);
    free(p->defaults);
    free(p);
}

static bool ftype_optional(ff_ftype_t ft)
{
    return ft == FF_F_OPT_STR || ft == FF_F_OPT_LONG || ft == FF_F_OPT_INT ||
           ft == FF_F_OPT_FLOAT;
}

/* The value part of a reader type: X of ["null", X]. */
static const ff_av_type_t *reader_value_type(const ff_av_type_t *r)
{
    if (r->kind != FF_AV_UNION)
        return r;
    for (size_t i = 0; i < r->n; i++)
        if (r->branches[i]->kind != FF_AV_NULL)
            return r->branches[i];
    return r->n ? r->branches[0] : r; /* an empty union: no value at all */
}

static const char *unqualified(const char *name)
{
    const char *dot = name ? strrchr(name, '.') : NULL;
    return dot ? dot + 1 : name;
}

static bool names_match(const ff_av_type_t *w, const ff_av_type_t *r)
{
    if (!w->name || !r->name)
        return false;
    return !strcmp(w->name, r->name) || !strcmp(unqualified(w->name), unqualified(r->name));
}

static ff_av_plan_t *plan_value(plan_ctx_t *ctx, const ff_av_type_t *w, const ff_av_type_t *r,
                                ff_ftype_t ft, const ff_rdesc_t *sub);

static int plan_err(plan_ctx_t *ctx, const char *fmt, const char *a, const char *b)
{
    char msg[256];
    snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
    if (ctx->path)
        snprintf(ctx->errstr, ctx->errstr_size, "field %s: %s", ctx->path, msg);
    else
        snprintf(ctx->errstr, ctx->errstr_size, "%s", msg);
    return -1;
}

static const char *kind_name(ff_av_kind_t k)
{
    static const char *const names[] = {"null",   "boolean", "int",   "long",  "float",
                                        "double", "bytes",   "string", "record", "enum",
                                        "array",  "map",     "union", "fixed"};
    return names[k];
}

/* Whether writer primitive kind w promotes to the binding ft. */
static bool scalar_ok(ff_av_kind_t w, ff_ftype_t ft)
{
    switch (ft) {
    case FF_F_STR:
    case FF_F_OPT_STR:
        return w == FF_AV_STRING || w == FF_AV_BYTES;
    case FF_F_LONG:
    case FF_F_OPT_LONG:
        return w == FF_AV_INT || w == FF_AV_LONG;
    case FF_F_INT:
    case FF_F_OPT_INT:
        return w == FF_AV_INT;
    case FF_F_DOUBLE:
        return w == FF_AV_INT || w == FF_AV_LONG || w == FF_AV_FLOAT || w == FF_AV_DOUBLE;
    case FF_F_OPT_FLOAT:
        return w == FF_AV_INT || w == FF_AV_LONG || w == FF_AV_FLOAT;
    case FF_F_BOOL:
        return w == FF_AV_BOOLEAN;
    default:
        return false;
    }
}

static ff_av_plan_t *plan_record(plan_ctx_t *ctx, const ff_av_type_t *w, const ff_av_type_t *r,
                                 const ff_rdesc_t *desc)
{
    ff_av_plan_t *p;
    const char *saved_path = ctx->path;

    if (w->kind != FF_AV_RECORD) {
        plan_err(ctx, "writer has %s where the reader expects record %s", kind_name(w->kind),
                 r->name);
        return NULL;
    }
    if (!names_match(w, r)) {
        plan_err(ctx, "writer record %s is not a %s", w->name, r->name);
        return NULL;
    }
    p = plan_alloc(P_RECORD, w, FF_F_ARRAY_REC);
    p->desc = desc;
    p->nsteps = w->n;
    p->steps = ff_calloc(w->n ? w->n : 1, sizeof(*p->steps));
    p->defaults = ff_calloc(r->n ? r->n : 1, sizeof(*p->defaults));

    for (size_t wi = 0; wi < w->n; wi++) {
        rec_step_t *st = &p->steps[wi];
        st->fi = -1;
        st->wtype = w->fields[wi].type;
        for (size_t ri = 0; ri < r->n; ri++) {
            if (!strcmp(w->fields[wi].name, r->fields[ri].name)) {
                st->fi = (int)ri;
                break;
            }
        }
        if (st->fi >= 0) {
            ctx->path = r->fields[st->fi].name;
            st->plan = plan_value(ctx, st->wtype, r->fields[st->fi].type,
                                  desc->fields[st->fi].type, desc->fields[st->fi].sub);
            ctx->path = saved_path;
            if (!st->plan)
                goto err;
        }
    }
    for (size_t ri = 0; ri < r->n; ri++) {
        bool in_writer = false;
        for (size_t wi = 0; wi < w->n && !in_writer; wi++)
            in_writer = !strcmp(w->fields[wi].name, r->fields[ri].name);
        if (in_writer)
            continue;
        /* Reader field missing from the writer: its default fills it in. */
        rec_default_t *d = &p->defaults[p->ndefaults];
        json_t *j;
        ff_ftype_t ft = desc->fields[ri].type;
        const ff_av_type_t *rt = reader_value_type(r->fields[ri].type);
        if (!r->fields[ri].default_json) {
            ctx->path = r->fields[ri].name;
            plan_err(ctx, "the writer lacks it and the reader has no default%s%s", NULL, NULL);
            ctx->path = saved_path;
            goto err;
        }
        d->fi = (int)ri;
        j = json_loads(r->fields[ri].default_json, JSON_DECODE_ANY, NULL);
        bool ok = j != NULL;
        if (ok && json_is_null(j)) {
            ok = ftype_optional(ft);
            d->is_null = true;
        } else if (ok && (ft == FF_F_STR || ft == FF_F_OPT_STR)) {
            ok = json_is_string(j);
            if (ok)
                d->s = ff_strdup(json_string_value(j));
        } else if (ok && (ft == FF_F_LONG || ft == FF_F_INT || ft == FF_F_OPT_LONG ||
                          ft == FF_F_OPT_INT)) {
            ok = json_is_integer(j);
            d->i = ok ? (int64_t)json_integer_value(j) : 0;
        } else if (ok && (ft == FF_F_DOUBLE || ft == FF_F_OPT_FLOAT)) {
            ok = json_is_number(j);
            d->d = ok ? json_number_value(j) : 0;
        } else if (ok && ft == FF_F_BOOL) {
            ok = json_is_boolean(j);
            d->i = ok && json_is_true(j);
        } else if (ok && ft == FF_F_ENUM) {
            ok = false;
            for (size_t k = 0; json_is_string(j) && k < rt->n; k++) {
                if (!strcmp(rt->symbols[k], json_string_value(j))) {
                    d->i = (int64_t)k;
                    ok = true;
                }
            }
        } else if (ok && (ft == FF_F_ARRAY_REC || ft == FF_F_ARRAY_STR)) {
            ok = json_is_array(j) && json_array_size(j) == 0;
        }
        json_decref(j);
        if (!ok) {
            ctx->path = r->fields[ri].name;
            plan_err(ctx, "default value %s does not fit the field", r->fields[ri].default_json,
                     NULL);
            ctx->path = saved_path;
            goto err;
        }
        p->ndefaults++;
    }
    return p;
err:
    ff_av_plan_destroy(p);
    return NULL;
}

static ff_av_plan_t *plan_value(plan_ctx_t *ctx, const ff_av_type_t *w, const ff_av_type_t *r,
                                ff_ftype_t ft, const ff_rdesc_t *sub)
{
    const ff_av_type_t *rv = reader_value_type(r);
    ff_av_plan_t *p;

    if (w->kind == FF_AV_UNION) {
        /* Each writer branch is resolved on its own; a branch the reader
         * cannot take is an error only if a record actually uses it. */
        p = plan_alloc(P_UNION, w, ft);
        p->nbranches = w->n;
        p->branches = ff_calloc(w->n ? w->n : 1, sizeof(*p->branches));
        p->branch_err = ff_calloc(w->n ? w->n : 1, sizeof(*p->branch_err));
        int usable = 0;
        for (size_t i = 0; i < w->n; i++) {
            char err[256] = "";
            plan_ctx_t bctx = {err, sizeof err, ctx->path};
            p->branches[i] = plan_value(&bctx, w->branches[i], r, ft, sub);
            if (p->branches[i])
                usable++;
            else
                p->branch_err[i] = ff_strdup(err);
        }
        if (!usable) {
            plan_err(ctx, "no branch of the writer's union fits the reader (%s)%s",
                     p->branch_err[0] ? p->branch_err[0] : "", NULL);
            ff_av_plan_destroy(p);
            return NULL;
        }
        return p;
    }
    if (w->kind == FF_AV_NULL) {
        if (!ftype_optional(ft)) {
            plan_err(ctx, "writer has null where the reader needs a value%s%s", NULL, NULL);
            return NULL;
        }
        return plan_alloc(P_STORE_NULL, w, ft);
    }
    switch (ft) {
    case FF_F_ENUM: {
        if (w->kind != FF_AV_ENUM || rv->kind != FF_AV_ENUM || !names_match(w, rv)) {
            plan_err(ctx, "writer %s is not the reader's enum %s", w->name ? w->name : kind_name(w->kind),
                     rv->name);
            return NULL;
        }
        p = plan_alloc(P_ENUM, w, ft);
        p->nmap = w->n;
        p->enum_map = ff_calloc(w->n, sizeof(int));
        p->enum_name = ff_strdup(rv->name);
        int def = -1;
        for (size_t k = 0; rv->enum_default && k < rv->n; k++)
            if (!strcmp(rv->symbols[k], rv->enum_default))
                def = (int)k;
        for (size_t i = 0; i < w->n; i++) {
            p->enum_map[i] = def;
            for (size_t k = 0; k < rv->n; k++)
                if (!strcmp(w->symbols[i], rv->symbols[k]))
                    p->enum_map[i] = (int)k;
        }
        return p;
    }
    case FF_F_ARRAY_REC:
    case FF_F_ARRAY_STR:
        if (w->kind != FF_AV_ARRAY) {
            plan_err(ctx, "writer has %s where the reader expects an array%s", kind_name(w->kind),
                     NULL);
            return NULL;
        }
        p = plan_alloc(P_ARRAY, w, ft);
        /* The writer's items as they are: a union of records would put a
         * branch index before each, which a record plan does not read. */
        if (ft == FF_F_ARRAY_REC)
            p->items = plan_record(ctx, w->items, rv->items, sub);
        else
            p->items = plan_value(ctx, w->items, rv->items, FF_F_STR, NULL);
        if (!p->items) {
            ff_av_plan_destroy(p);
            return NULL;
        }
        return p;
    default:
        if (!scalar_ok(w->kind, ft)) {
            plan_err(ctx, "writer type %s cannot be read as the reader's %s", kind_name(w->kind),
                     kind_name(rv->kind));
            return NULL;
        }
        return plan_alloc(P_SCALAR, w, ft);
    }
}

ff_av_plan_t *ff_av_plan_new(const ff_av_type_t *writer, const ff_av_type_t *reader,
                             const ff_rdesc_t *desc, char *errstr, size_t errstr_size)
{
    plan_ctx_t ctx = {errstr, errstr_size, NULL};
    if (reader->kind != FF_AV_RECORD) {
        snprintf(errstr, errstr_size, "reader schema is not a record");
        return NULL;
    }
    return plan_record(&ctx, writer, reader, desc);
}

/* ---- decoding --------------------------------------------------------- */

static void store_null(void *dst, ff_ftype_t ft)
{
    switch (ft) {
    case FF_F_OPT_STR:
        *(const char **)dst = NULL;
        break;
    case FF_F_OPT_LONG:
    case FF_F_OPT_INT:
        ((ff_opt_i64_t *)dst)->set = false;
        ((ff_opt_i64_t *)dst)->v = 0;
        break;
    case FF_F_OPT_FLOAT:
        ((ff_opt_f64_t *)dst)->set = false;
        ((ff_opt_f64_t *)dst)->v = 0;
        break;
    default:
        break;
    }
}

static int decode_value(rd_t *r, const ff_av_plan_t *p, void *dst, ff_arena_t *arena, int depth);
static int decode_record(rd_t *r, const ff_av_plan_t *p, void *dst, ff_arena_t *arena, int depth);

/* Stores a number (i for integer bindings, d for floating ones) into a
 * binding; 0, or -1 if ft is not a number binding. */
static int store_number(void *dst, ff_ftype_t ft, int64_t i, double d)
{
    switch (ft) {
    case FF_F_LONG:
    case FF_F_INT:
        *(int64_t *)dst = i;
        return 0;
    case FF_F_ENUM:
        *(int *)dst = (int)i;
        return 0;
    case FF_F_BOOL:
        *(bool *)dst = i != 0;
        return 0;
    case FF_F_OPT_LONG:
    case FF_F_OPT_INT:
        ((ff_opt_i64_t *)dst)->set = true;
        ((ff_opt_i64_t *)dst)->v = i;
        return 0;
    case FF_F_DOUBLE:
        *(double *)dst = d;
        return 0;
    case FF_F_OPT_FLOAT:
        ((ff_opt_f64_t *)dst)->set = true;
        ((ff_opt_f64_t *)dst)->v = d;
        return 0;
    default:
        return -1;
    }
}

static void apply_defaults(const ff_av_plan_t *p, void *dst)
{
    const ff_rdesc_t *desc = p->desc;
    for (size_t i = 0; i < p->ndefaults; i++) {
        const rec_default_t *d = &p->defaults[i];
        const ff_fdesc_t *f = &desc->fields[d->fi];
        void *fdst = (char *)dst + f->off;
        if (d->is_null) {
            store_null(fdst, f->type);
            continue;
        }
        switch (f->type) {
        case FF_F_STR:
        case FF_F_OPT_STR:
            *(const char **)fdst = d->s; /* owned by the plan, which outlives records */
            break;
        case FF_F_ARRAY_REC:
        case FF_F_ARRAY_STR:
            *(void **)fdst = NULL;
            *(size_t *)((char *)dst + f->count_off) = 0;
            break;
        default:
            store_number(fdst, f->type, d->i, d->d);
            break;
        }
    }
}

static int decode_scalar(rd_t *r, const ff_av_plan_t *p, void *dst, ff_arena_t *arena)
{
    int64_t i = 0;
    double d = 0;
    const unsigned char *s;
    size_t n;

    switch (p->w->kind) {
    case FF_AV_STRING:
    case FF_AV_BYTES:
        if (rd_bytes(r, &s, &n) == -1)
            return -1;
        if (memchr(s, '\0', n))
            return rd_fail(r, FF_DEC_MALFORMED, "a string holds a NUL byte%s", NULL);
        *(const char **)dst = ff_arena_strndup(arena, (const char *)s, n);
        return 0;
    case FF_AV_BOOLEAN:
        if (rd_fixed(r, 1, &s) == -1)
            return -1;
        if (*s > 1)
            return rd_fail(r, FF_DEC_MALFORMED, "boolean byte is neither 0 nor 1%s", NULL);
        *(bool *)dst = *s == 1;
        return 0;
    case FF_AV_INT:
        if (rd_int(r, &i) == -1)
            return -1;
        d = (double)i;
        break;
    case FF_AV_LONG:
        if (rd_long(r, &i) == -1)
            return -1;
        d = (double)i;
        break;
    case FF_AV_FLOAT:
        if (rd_float(r, &d) == -1)
            return -1;
        break;
    case FF_AV_DOUBLE:
        if (rd_double(r, &d) == -1)
            return -1;
        break;
    default:
        return rd_fail(r, FF_DEC_MALFORMED, "unexpected writer type%s", NULL);
    }
    if (p->ft == FF_F_BOOL || p->ft == FF_F_ENUM || store_number(dst, p->ft, i, d) == -1)
        return rd_fail(r, FF_DEC_MALFORMED, "unexpected binding%s", NULL);
    return 0;
}

/* An array field: the element pointer at dst, its count at *count. */
static int decode_array(rd_t *r, const ff_av_plan_t *p, void *dst, size_t *count,
                        ff_arena_t *arena, int depth)
{
    size_t esize = p->ft == FF_F_ARRAY_REC ? p->items->desc->size : sizeof(const char *);
    char *elems = NULL;
    size_t n = 0;
    for (;;) {
        int64_t bc;
        if (rd_block_count(r, &bc) == -1)
            return -1;
        if (bc == 0)
            break;
        /* Blocks after the first are rare: grow by copying within the arena. */
        char *grown = ff_arena_alloc(arena, (n + (size_t)bc) * esize);
        if (n)
            memcpy(grown, elems, n * esize);
        memset(grown + n * esize, 0, (size_t)bc * esize);
        elems = grown;
        for (int64_t k = 0; k < bc; k++, n++) {
            int rc = p->ft == FF_F_ARRAY_REC
                         ? decode_record(r, p->items, elems + n * esize, arena, depth + 1)
                         : decode_value(r, p->items, elems + n * esize, arena, depth + 1);
            if (rc == -1)
                return -1;
        }
    }
    *(void **)dst = elems;
    *count = n;
    return 0;
}

static int decode_record(rd_t *r, const ff_av_plan_t *p, void *dst, ff_arena_t *arena, int depth)
{
    const ff_rdesc_t *desc = p->desc;
    if (depth > 32)
        return rd_fail(r, FF_DEC_MALFORMED, "records nested too deeply%s", NULL);
    for (size_t i = 0; i < p->nsteps; i++) {
        const rec_step_t *st = &p->steps[i];
        const ff_fdesc_t *f;
        int rc;
        if (st->fi < 0) {
            if (skip_value(r, st->wtype, depth + 1) == -1)
                return -1;
            continue;
        }
        f = &desc->fields[st->fi];
        if (st->plan->op == P_ARRAY)
            rc = decode_array(r, st->plan, (char *)dst + f->off,
                              (size_t *)((char *)dst + f->count_off), arena, depth + 1);
        else
            rc = decode_value(r, st->plan, (char *)dst + f->off, arena, depth + 1);
        if (rc == -1)
            return -1;
    }
    apply_defaults(p, dst);
    return 0;
}

static int decode_value(rd_t *r, const ff_av_plan_t *p, void *dst, ff_arena_t *arena, int depth)
{
    int64_t v;
    if (depth > 64)
        return rd_fail(r, FF_DEC_MALFORMED, "value nested too deeply%s", NULL);
    switch (p->op) {
    case P_STORE_NULL:
        store_null(dst, p->ft);
        return 0;
    case P_SCALAR:
        return decode_scalar(r, p, dst, arena);
    case P_UNION:
        if (rd_long(r, &v) == -1)
            return -1;
        if (v < 0 || (size_t)v >= p->nbranches)
            return rd_fail(r, FF_DEC_MALFORMED, "union branch index out of range%s", NULL);
        if (!p->branches[v])
            return rd_fail(r, FF_DEC_SCHEMA_MISMATCH, "%s", p->branch_err[v]);
        return decode_value(r, p->branches[v], dst, arena, depth + 1);
    case P_ENUM:
        if (rd_long(r, &v) == -1)
            return -1;
        if (v < 0 || (size_t)v >= p->nmap)
            return rd_fail(r, FF_DEC_MALFORMED, "enum index out of range for %s", p->enum_name);
        if (p->enum_map[v] < 0)
            return rd_fail(r, FF_DEC_SCHEMA_MISMATCH, "enum symbol unknown to this reader (%s)",
                           p->enum_name);
        *(int *)dst = p->enum_map[v];
        return 0;
    case P_RECORD:
        return decode_record(r, p, dst, arena, depth);
    case P_ARRAY:
        break; /* arrays are record fields; decode_record handles them */
    }
    return rd_fail(r, FF_DEC_MALFORMED, "unexpected plan%s", NULL);
}

int ff_av_plan_decode(const ff_av_plan_t *plan, const void *data, size_t len, ff_arena_t *arena,
                      void *out, ff_dec_err_t *err)
{
    rd_t r = {data, (const unsigned char *)data + len, err};
    err->status = FF_DEC_OK;
    err->msg[0] = '\0';
    memset(out, 0, plan->desc->size);
    if (decode_record(&r, plan, out, arena, 0) == -1)
        return -1;
    if (r.p != r.end) {
        snprintf(err->msg, sizeof err->msg, "%zu bytes left after the record",
                 (size_t)(r.end - r.p));
        err->status = FF_DEC_MALFORMED;
        return -1;
    }
    return 0;
}

/* ---- descriptor check -------------------------------------------------- */

static int desc_fail(char *errstr, size_t size, const char *rec, const char *field,
                     const char *why)
{
    snprintf(errstr, size, "%s.%s: %s", rec, field, why);
    return -1;
}

int ff_av_check_desc(const ff_av_type_t *reader, const ff_rdesc_t *desc, char *errstr,
                     size_t errstr_size)
{
    if (reader->kind != FF_AV_RECORD || !reader->name || strcmp(reader->name, desc->name)) {
        snprintf(errstr, errstr_size, "schema %s does not define record %s",
                 reader->name ? reader->name : "(anonymous)", desc->name);
        return -1;
    }
    if (reader->n != desc->nfields) {
        snprintf(errstr, errstr_size, "%s: the schema has %zu fields, the C struct %zu",
                 desc->name, reader->n, desc->nfields);
        return -1;
    }
    for (size_t i = 0; i < reader->n; i++) {
        const ff_av_field_t *af = &reader->fields[i];
        const ff_fdesc_t *f = &desc->fields[i];
        const ff_av_type_t *t = af->type;
        bool opt = t->kind == FF_AV_UNION;
        ff_av_kind_t k;
        if (strcmp(af->name, f->name))
            return desc_fail(errstr, errstr_size, desc->name, f->name,
                             "field order or name differs from the schema");
        if (opt) {
            if (t->n != 2 || t->branches[0]->kind != FF_AV_NULL)
                return desc_fail(errstr, errstr_size, desc->name, f->name,
                                 "unions must be [\"null\", T]");
            t = t->branches[1];
        }
        if (opt != ftype_optional(f->type))
            return desc_fail(errstr, errstr_size, desc->name, f->name,
                             "optional in one of schema and struct only");
        k = t->kind;
        bool ok;
        switch (f->type) {
        case FF_F_STR:
        case FF_F_OPT_STR: ok = k == FF_AV_STRING; break;
        case FF_F_LONG:
        case FF_F_OPT_LONG: ok = k == FF_AV_LONG; break;
        case FF_F_INT:
        case FF_F_OPT_INT: ok = k == FF_AV_INT; break;
        case FF_F_DOUBLE: ok = k == FF_AV_DOUBLE; break;
        case FF_F_OPT_FLOAT: ok = k == FF_AV_FLOAT; break;
        case FF_F_BOOL: ok = k == FF_AV_BOOLEAN; break;
        case FF_F_ENUM: ok = k == FF_AV_ENUM; break;
        case FF_F_ARRAY_STR: ok = k == FF_AV_ARRAY && t->items->kind == FF_AV_STRING; break;
        case FF_F_ARRAY_REC:
            ok = k == FF_AV_ARRAY && t->items->kind == FF_AV_RECORD && f->sub &&
                 ff_av_check_desc(t->items, f->sub, errstr, errstr_size) == 0;
            break;
        default: ok = false;
        }
        if (!ok)
            return desc_fail(errstr, errstr_size, desc->name, f->name,
                             "C type does not match the schema type");
    }
    return 0;
}

/* ---- encoding ---------------------------------------------------------- */

void ff_av_put_long(ff_buf_t *out, int64_t v)
{
    uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    char tmp[10];
    size_t n = 0;
    do {
        unsigned char b = u & 0x7f;
        u >>= 7;
        tmp[n++] = (char)(u ? b | 0x80 : b);
    } while (u);
    ff_buf_append(out, tmp, n);
}

static void put_str(ff_buf_t *out, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    ff_av_put_long(out, (int64_t)n);
    ff_buf_append(out, s ? s : "", n);
}

static void put_float(ff_buf_t *out, double d)
{
    float f = (float)d;
    uint32_t u;
    char b[4];
    memcpy(&u, &f, 4);
    for (int i = 0; i < 4; i++)
        b[i] = (char)(u >> (8 * i));
    ff_buf_append(out, b, 4);
}

static void put_double(ff_buf_t *out, double d)
{
    uint64_t u;
    char b[8];
    memcpy(&u, &d, 8);
    for (int i = 0; i < 8; i++)
        b[i] = (char)(u >> (8 * i));
    ff_buf_append(out, b, 8);
}

void ff_av_encode(const ff_rdesc_t *desc, const void *in, ff_buf_t *out)
{
    for (size_t i = 0; i < desc->nfields; i++) {
        const ff_fdesc_t *f = &desc->fields[i];
        const void *src = (const char *)in + f->off;
        switch (f->type) {
        case FF_F_STR:
            put_str(out, *(const char *const *)src);
            break;
        case FF_F_OPT_STR: {
            const char *s = *(const char *const *)src;
            ff_av_put_long(out, s ? 1 : 0);
            if (s)
                put_str(out, s);
            break;
        }
        case FF_F_LONG:
        case FF_F_INT:
            ff_av_put_long(out, *(const int64_t *)src);
            break;
        case FF_F_OPT_LONG:
        case FF_F_OPT_INT: {
            const ff_opt_i64_t *o = src;
            ff_av_put_long(out, o->set ? 1 : 0);
            if (o->set)
                ff_av_put_long(out, o->v);
            break;
        }
        case FF_F_DOUBLE:
            put_double(out, *(const double *)src);
            break;
        case FF_F_OPT_FLOAT: {
            const ff_opt_f64_t *o = src;
            ff_av_put_long(out, o->set ? 1 : 0);
            if (o->set)
                put_float(out, o->v);
            break;
        }
        case FF_F_BOOL:
            ff_buf_putc(out, *(const bool *)src ? 1 : 0);
            break;
        case FF_F_ENUM:
            ff_av_put_long(out, *(const int *)src);
            break;
        case FF_F_ARRAY_STR:
        case FF_F_ARRAY_REC: {
            size_t n = *(const size_t *)((const char *)in + f->count_off);
            const char *elems = *(const char *const *)src;
            if (n) {
                ff_av_put_long(out, (int64_t)n);
                for (size_t k = 0; k < n; k++) {
                    if (f->type == FF_F_ARRAY_STR)
                        put_str(out, ((const char *const *)elems)[k]);
                    else
                        ff_av_encode(f->sub, elems + k * f->sub->size, out);
                }
            }
            ff_av_put_long(out, 0);
            break;
        }
        }
    }
}

void ff_av_put_frame(ff_buf_t *out, int32_t schema_id)
{
    char h[FF_AV_FRAME_LEN] = {0, (char)((uint32_t)schema_id >> 24), (char)(schema_id >> 16),
                               (char)(schema_id >> 8), (char)schema_id};
    ff_buf_append(out, h, sizeof h);
}

int ff_av_parse_frame(const void *data, size_t len, int32_t *schema_id, ff_dec_err_t *err)
{
    const unsigned char *p = data;
    if (!data || len == 0) {
        err->status = FF_DEC_EMPTY;
        snprintf(err->msg, sizeof err->msg, "record has no value");
        return -1;
    }
    if (p[0] != 0) {
        err->status = FF_DEC_BAD_MAGIC;
        snprintf(err->msg, sizeof err->msg,
                 "first byte is 0x%02x, not the schema-registry magic byte 0x00", p[0]);
        return -1;
    }
    if (len < FF_AV_FRAME_LEN) {
        err->status = FF_DEC_TRUNCATED;
        snprintf(err->msg, sizeof err->msg, "value of %zu bytes is shorter than the 5-byte header",
                 len);
        return -1;
    }
    *schema_id = (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 |
                           (uint32_t)p[4]);
    return 0;
}

/* ---- JSON rendering ---------------------------------------------------- */

static int json_value(rd_t *r, const ff_av_type_t *t, ff_buf_t *out, int depth)
{
    int64_t i;
    double d;
    const unsigned char *s;
    size_t n;

    if (depth > 64)
        return rd_fail(r, FF_DEC_MALFORMED, "value nested too deeply%s", NULL);
    switch (t->kind) {
    case FF_AV_NULL:
        ff_buf_puts(out, "null");
        return 0;
    case FF_AV_BOOLEAN:
        if (rd_fixed(r, 1, &s) == -1)
            return -1;
        ff_buf_puts(out, *s ? "true" : "false");
        return 0;
    case FF_AV_INT:
    case FF_AV_LONG:
        if ((t->kind == FF_AV_INT ? rd_int(r, &i) : rd_long(r, &i)) == -1)
            return -1;
        ff_buf_printf(out, "%lld", (long long)i);
        return 0;
    case FF_AV_FLOAT:
    case FF_AV_DOUBLE:
        if ((t->kind == FF_AV_FLOAT ? rd_float(r, &d) : rd_double(r, &d)) == -1)
            return -1;
        if (isfinite(d))
            ff_buf_printf(out, "%.*g", t->kind == FF_AV_FLOAT ? 7 : 15, d);
        else
            ff_buf_puts(out, "null");
        return 0;
    case FF_AV_STRING:
    case FF_AV_BYTES:
        if (rd_bytes(r, &s, &n) == -1)
            return -1;
        ff_buf_json_str(out, (const char *)s, n);
        return 0;
    case FF_AV_FIXED:
        if (rd_fixed(r, t->fixed_size, &s) == -1)
            return -1;
        ff_buf_json_str(out, (const char *)s, t->fixed_size);
        return 0;
    case FF_AV_ENUM:
        if (rd_long(r, &i) == -1)
            return -1;
        if (i < 0 || (size_t)i >= t->n)
            return rd_fail(r, FF_DEC_MALFORMED, "enum index out of range%s", NULL);
        ff_buf_json_str(out, t->symbols[i], strlen(t->symbols[i]));
        return 0;
    case FF_AV_UNION:
        if (rd_long(r, &i) == -1)
            return -1;
        if (i < 0 || (size_t)i >= t->n)
            return rd_fail(r, FF_DEC_MALFORMED, "union branch index out of range%s", NULL);
        return json_value(r, t->branches[i], out, depth + 1);
    case FF_AV_RECORD:
        ff_buf_putc(out, '{');
        for (size_t k = 0; k < t->n; k++) {
            if (k)
                ff_buf_putc(out, ',');
            ff_buf_json_str(out, t->fields[k].name, strlen(t->fields[k].name));
            ff_buf_putc(out, ':');
            if (json_value(r, t->fields[k].type, out, depth + 1) == -1)
                return -1;
        }
        ff_buf_putc(out, '}');
        return 0;
    case FF_AV_ARRAY:
    case FF_AV_MAP: {
        bool first = true;
        ff_buf_putc(out, t->kind == FF_AV_ARRAY ? '[' : '{');
        for (;;) {
            int64_t bc;
            if (rd_block_count(r, &bc) == -1)
                return -1;
            if (bc == 0)
                break;
            while (bc-- > 0) {
                if (!first)
                    ff_buf_putc(out, ',');
                first = false;
                if (t->kind == FF_AV_MAP) {
                    if (rd_bytes(r, &s, &n) == -1)
                        return -1;
                    ff_buf_json_str(out, (const char *)s, n);
                    ff_buf_putc(out, ':');
                }
                if (json_value(r, t->items, out, depth + 1) == -1)
                    return -1;
            }
        }
        ff_buf_putc(out, t->kind == FF_AV_ARRAY ? ']' : '}');
        return 0;
    }
    }
    return rd_fail(r, FF_DEC_MALFORMED, "unknown type%s", NULL);
}

int ff_av_to_json(const ff_av_type_t *writer, const void *data, size_t len, ff_buf_t *out,
                  ff_dec_err_t *err)
{
    rd_t r = {data, (const unsigned char *)data + len, err};
    err->status = FF_DEC_OK;
    err->msg[0] = '\0';
    if (json_value(&r, writer, out, 0) == -1)
        return -1;
    if (r.p != r.end) {
        err->status = FF_DEC_MALFORMED;
        snprintf(err->msg, sizeof err->msg, "%zu bytes left after the record",
                 (size_t)(r.end - r.p));
        return -1;
    }
    return 0;
}
