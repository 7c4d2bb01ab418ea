// Glue compiled into usearch.wasm next to USearch's own C API (c/lib.cpp).
//
// 1. `usearch_wasm_filtered_search`: `usearch_filtered_search` takes a C function pointer as the
//    predicate. A JS function cannot be put into the wasm function table without compiling a
//    wasm stub at run time (what emscripten's `addFunction` does), and Cloudflare Workers forbid
//    that. So the predicate is a wasm function that forwards every key to one imported JS
//    function, `env.usearch_filter(key, state)`; `state` is an opaque number the caller chooses.
// 2. Layout checks: src/vector/usearch.ts writes `usearch_init_options_t` by byte offset; these
//    asserts fail the build if the struct ever moves.
#include <cstddef>
#include <cstdint>

extern "C" {
#include "usearch.h"

__attribute__((import_module("env"), import_name("usearch_filter"))) //
int usearch_js_filter(usearch_key_t key, void* state);

static int usearch_forward_filter(usearch_key_t key, void* state) { return usearch_js_filter(key, state); }

size_t usearch_wasm_filtered_search(                                              //
    usearch_index_t index, void const* query, usearch_scalar_kind_t query_kind, //
    size_t count, void* filter_state,                                           //
    usearch_key_t* keys, usearch_distance_t* distances, usearch_error_t* error) {
    return usearch_filtered_search(index, query, query_kind, count, usearch_forward_filter, filter_state, keys,
                                   distances, error);
}
}

static_assert(sizeof(void*) == 4 && sizeof(size_t) == 4, "wasm32 expected");
static_assert(offsetof(usearch_init_options_t, metric_kind) == 0, "options layout");
static_assert(offsetof(usearch_init_options_t, metric) == 4, "options layout");
static_assert(offsetof(usearch_init_options_t, quantization) == 8, "options layout");
static_assert(offsetof(usearch_init_options_t, dimensions) == 12, "options layout");
static_assert(offsetof(usearch_init_options_t, connectivity) == 16, "options layout");
static_assert(offsetof(usearch_init_options_t, expansion_add) == 20, "options layout");
static_assert(offsetof(usearch_init_options_t, expansion_search) == 24, "options layout");
static_assert(offsetof(usearch_init_options_t, multi) == 28, "options layout");
static_assert(sizeof(usearch_init_options_t) == 32, "options layout");
