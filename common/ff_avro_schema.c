/* ff_avro_schema: parses Avro schema JSON (records, enums, arrays, maps, unions, fixed, primitives). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_avro.h"

struct ff_av_schema_s {
    ff_av_type_t *root;
    ff_av_type_t **types; /* every node, for freeing (named types are shared) */
    size_t ntypes;
    char *json;
};

typedef struct parse_ctx_s {
    ff_av_schema_t *schema;
    char *errstr;
    size_t errstr_size;
    int depth;
} parse_ctx_t;

static const struct {
    const char *name;
    ff_av_kind_t kind;
} primitives[] = {
    {"null", FF_AV_NULL},   {"boolean", FF_AV_BOOLEAN}, {"int", FF_AV_INT},
    {"long", FF_AV_LONG},   {"float", FF_AV_FLOAT},     {"double", FF_AV_DOUBLE},
    {"bytes", FF_AV_BYTES}, {"string", FF_AV_STRING},
};

static ff_av_type_t *new_type(parse_ctx_t *ctx, ff_av_kind_t kind)
{
    ff_av_schema_t *s = ctx->schema;
    ff_av_type_t *t = ff_calloc(1, sizeof(*t));
    t->kind = kind;
    s->types = ff_realloc(s->types, (s->ntypes + 1) * sizeof(*s->types));
    s->types[s->ntypes++] = t;
    return t;
}

static int fail(parse_ctx_t *ctx, const char *fmt, const char *arg)
{
    snprintf(ctx->errstr, ctx->errstr_size, fmt, arg ? arg : "");
    return -1;
}

static char *full_name(const char *name, const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns)
        return ff_strdup(name);
    return ff_asprintf("%s.%s", ns, name);
}

static ff_av_type_t *find_named(parse_ctx_t *ctx, const char *name, const char *ns)
{
    char *fn = full_name(name, ns);
    ff_av_type_t *found = NULL;
    for (size_t i = 0; i < ctx->schema->ntypes && !found; i++) {
        ff_av_type_t *t = ctx->schema->types[i];
        if (t->name && (!strcmp(t->name, fn) || !strcmp(t->name, name)))
            found = t;
    }
    free(fn);
    return found;
}

static ff_av_type_t *parse_type(parse_ctx_t *ctx, json_t *j, const char *ns);

static int parse_fields(parse_ctx_t *ctx, ff_av_type_t *t, json_t *fields, const char *ns)
{
    size_t i;
    json_t *f;
    if (!json_is_array(fields))
        return fail(ctx, "record %s: \"fields\" must be an array", t->name);
    t->n = json_array_size(fields);
    t->fields = ff_calloc(t->n, sizeof(*t->fields));
    json_array_foreach(fields, i, f) {
        const char *name = json_string_value(json_object_get(f, "name"));
        json_t *def;
        if (!name)
            return fail(ctx, "record %s: a field has no name", t->name);
        for (size_t k = 0; k < i; k++)
            if (!strcmp(t->fields[k].name, name))
                return fail(ctx, "duplicate field %s", name);
        t->fields[i].name = ff_strdup(name);
        t->fields[i].type = parse_type(ctx, json_object_get(f, "type"), ns);
        if (!t->fields[i].type)
            return -1;
        def = json_object_get(f, "default");
        if (def)
            t->fields[i].default_json = json_dumps(def, JSON_ENCODE_ANY | JSON_COMPACT);
    }
    return 0;
}

static ff_av_type_t *parse_object(parse_ctx_t *ctx, json_t *j, const char *ns)
{
    const char *type = json_string_value(json_object_get(j, "type"));
    const char *logical = json_string_value(json_object_get(j, "logicalType"));
    ff_av_type_t *t = NULL;

    if (!type) {
        json_t *inner = json_object_get(j, "type");
        if (json_is_object(inner) || json_is_array(inner))
            return parse_type(ctx, inner, ns);
        fail(ctx, "a schema object has no \"type\"%s", NULL);
        return NULL;
    }
    if (!strcmp(type, "record") || !strcmp(type, "error") || !strcmp(type, "enum") ||
        !strcmp(type, "fixed")) {
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *own_ns = json_string_value(json_object_get(j, "namespace"));
        char *fn;
        if (!name) {
            fail(ctx, "a %s has no name", type);
            return NULL;
        }
        fn = full_name(name, own_ns ? own_ns : ns);
        for (size_t i = 0; i < ctx->schema->ntypes; i++) {
            if (ctx->schema->types[i]->name && !strcmp(ctx->schema->types[i]->name, fn)) {
                fail(ctx, "type %s defined twice", fn);
                free(fn);
                return NULL;
            }
        }
        if (!strcmp(type, "enum")) {
            json_t *syms = json_object_get(j, "symbols"), *sym;
            const char *def = json_string_value(json_object_get(j, "default"));
            size_t i;
            t = new_type(ctx, FF_AV_ENUM);
            t->name = fn;
            if (!json_is_array(syms) || json_array_size(syms) == 0) {
                fail(ctx, "enum %s needs a non-empty \"symbols\" array", fn);
                return NULL;
            }
            t->n = json_array_size(syms);
            t->symbols = ff_calloc(t->n, sizeof(char *));
            json_array_foreach(syms, i, sym) {
                if (!json_is_string(sym)) {
                    fail(ctx, "enum %s: symbols must be strings", fn);
                    return NULL;
                }
                t->symbols[i] = ff_strdup(json_string_value(sym));
            }
            if (def)
                t->enum_default = ff_strdup(def);
        } else if (!strcmp(type, "fixed")) {
            json_t *size = json_object_get(j, "size");
            t = new_type(ctx, FF_AV_FIXED);
            t->name = fn;
            if (!json_is_integer(size) || json_integer_value(size) < 0) {
                fail(ctx, "fixed %s needs a size", fn);
                return NULL;
            }
            t->fixed_size = (size_t)json_integer_value(size);
        } else {
            /* The namespace of the record applies to its fields' types. */
            const char *dot = strrchr(fn, '.');
            char *rec_ns = dot ? ff_strndup(fn, (size_t)(dot - fn)) : ff_strdup("");
            int rc;
            t = new_type(ctx, FF_AV_RECORD);
            t->name = fn;
            rc = parse_fields(ctx, t, json_object_get(j, "fields"), rec_ns);
            free(rec_ns);
            if (rc == -1)
                return NULL;
        }
    } else if (!strcmp(type, "array")) {
        t = new_type(ctx, FF_AV_ARRAY);
        t->items = parse_type(ctx, json_object_get(j, "items"), ns);
        if (!t->items)
            return NULL;
    } else if (!strcmp(type, "map")) {
        t = new_type(ctx, FF_AV_MAP);
        t->items = parse_type(ctx, json_object_get(j, "values"), ns);
        if (!t->items)
            return NULL;
    } else {
        t = parse_type(ctx, json_object_get(j, "type"), ns);
        if (!t)
            return NULL;
        if (logical && !t->logical) {
            /* Primitive with a logical type: a node of its own. */
            ff_av_type_t *l = new_type(ctx, t->kind);
            l->logical = ff_strdup(logical);
            return l;
        }
        return t;
    }
    if (logical)
        t->logical = ff_strdup(logical);
    return t;
}

static ff_av_type_t *parse_type(parse_ctx_t *ctx, json_t *j, const char *ns)
{
    ff_av_type_t *t;
    if (!j) {
        fail(ctx, "missing type%s", NULL);
        return NULL;
    }
    if (++ctx->depth > 64) {
        fail(ctx, "schema nested too deeply%s", NULL);
        return NULL;
    }
    if (json_is_string(j)) {
        const char *name = json_string_value(j);
        t = NULL;
        for (size_t i = 0; i < FF_ARRAY_LEN(primitives); i++) {
            if (!strcmp(name, primitives[i].name)) {
                t = new_type(ctx, primitives[i].kind);
                break;
            }
        }
        if (!t)
            t = find_named(ctx, name, ns);
        if (!t)
            fail(ctx, "unknown type '%s'", name);
    } else if (json_is_array(j)) {
        size_t i;
        json_t *b;
        t = new_type(ctx, FF_AV_UNION);
        t->n = json_array_size(j);
        t->branches = ff_calloc(t->n ? t->n : 1, sizeof(*t->branches));
        json_array_foreach(j, i, b) {
            t->branches[i] = parse_type(ctx, b, ns);
            if (!t->branches[i]) {
                t = NULL;
                break;
            }
            if (t->branches[i]->kind == FF_AV_UNION) {
                fail(ctx, "a union may not contain a union%s", NULL);
                t = NULL;
                break;
            }
        }
    } else if (json_is_object(j)) {
        t = parse_object(ctx, j, ns);
    } else {
        fail(ctx, "a type must be a string, an array or an object%s", NULL);
        t = NULL;
    }
    ctx->depth--;
    return t;
}

ff_av_schema_t *ff_av_schema_parse(const char *json, char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = json_loads(json, JSON_DECODE_ANY, &jerr);
    ff_av_schema_t *schema;
    parse_ctx_t ctx;

    if (!root) {
        snprintf(errstr, errstr_size, "schema is not JSON: %s (line %d)", jerr.text, jerr.line);
        return NULL;
    }
    schema = ff_calloc(1, sizeof(*schema));
    ctx.schema = schema;
    ctx.errstr = errstr;
    ctx.errstr_size = errstr_size;
    ctx.depth = 0;
    schema->root = parse_type(&ctx, root, "");
    json_decref(root);
    if (!schema->root) {
        ff_av_schema_destroy(schema);
        return NULL;
    }
    schema->json = ff_strdup(json);
    return schema;
}

void ff_av_schema_destroy(ff_av_schema_t *schema)
{
    if (!schema)
        return;
    for (size_t i = 0; i < schema->ntypes; i++) {
        ff_av_type_t *t = schema->types[i];
        for (size_t k = 0; t->fields && k < t->n; k++) {
            free(t->fields[k].name);
            free(t->fields[k].default_json);
        }
        for (size_t k = 0; t->symbols && k < t->n; k++)
            free(t->symbols[k]);
        free(t->fields);
        free(t->symbols);
        free(t->branches);
        free(t->enum_default);
        free(t->name);
        free(t->logical);
        free(t);
    }
    free(schema->types);
    free(schema->json);
    free(schema);
}

const ff_av_type_t *ff_av_schema_root(const ff_av_schema_t *schema)
{
    return schema->root;
}

const char *ff_av_schema_json(const ff_av_schema_t *schema)
{
    return schema->json;
}
