/* VK_LAYER_VKMAP_noncoherent: a conformant driver double that adds, over another driver (lavapipe),
 * what that driver lacks: a HOST_VISIBLE memory type without HOST_COHERENT, and VK_EXT_map_memory_placed.
 *
 * Built and enabled by noncoherent_layer.py, for running the suite against non-coherent memory and
 * placed maps on a machine whose only driver has neither.  Never meant for anything else.
 *
 * Memory types.  Each driver type that is HOST_VISIBLE and HOST_COHERENT is offered twice: as itself,
 * and, before it, on the same heap, as a twin with the same flags less HOST_COHERENT.  Type indexes are
 * translated in vkAllocateMemory, and memoryTypeBits widened wherever the driver reports them.
 *
 * How the layer maps.  Memory it maps itself is allocated exportable (an opaque fd, from
 * vkGetMemoryFdKHR) and mapped with mmap of that fd, from where the memory's bytes start in it (found
 * once through the driver's own map of the memory, in /proc/self/maps, then checked per allocation):
 *   non-coherent types  always.  The map is a private (copy-on-write) view of the fd: host writes stay in
 *                       it until vkFlushMappedMemoryRanges copies them into the memory (a MAP_SHARED
 *                       mapping of the same pages, made at map time); vkInvalidateMappedMemoryRanges
 *                       copies the memory's bytes into the view.  A page of the view the host never wrote
 *                       is still the memory's own page (Linux keeps unwritten private pages backed by the
 *                       file), so both copy only the pages the host has written (/proc/self/pagemap
 *                       tells them apart; where it cannot be read, every page is copied).
 *   coherent types      only on a device that enabled VK_EXT_map_memory_placed: a MAP_SHARED map of the
 *                       fd, so that maps can be placed and unmaps can reserve.  Elsewhere coherent memory
 *                       is the driver's, mapped by the driver.
 * Imported memory (a host pointer, an fd) is never mapped by the layer: the driver maps it, coherently
 * even on a non-coherent type, which the specification allows (nothing obliges non-coherent memory to
 * hide writes).  So is memory whose fd the layer cannot get or place.
 *
 * Where it is not exact: a flush copies whole written pages (within the flushed range), so an atom the
 * host did not write, in a page it wrote, that the device wrote after the host's first write to that
 * page, goes back to the page's copy-on-write snapshot if a flush covers it.  Below the layer, buffers
 * and images are bound to exportable memory without VkExternalMemory{Buffer,Image}CreateInfo (the
 * driver, lavapipe, does not mind).
 *
 * Broken variants, for the suite's self-tests, chosen by VKMAP_NONCOHERENT_LAYER_BUG:
 *   flush-moves-nothing       vkFlushMappedMemoryRanges copies nothing into the memory.
 *   invalidate-moves-nothing  vkInvalidateMappedMemoryRanges copies nothing into the view (which shows
 *                             only where the host has written a page of the view since the map: the
 *                             others still show the memory).
 *   stale-after-placed        after a placed map and a plain unmap (which releases its pages), the next
 *                             plain map of that memory hands out the placed address again, unmapped.
 *   anything else, or unset   conformant.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vulkan/vulkan.h>

struct layout {                             /* one physical device's memory types as the layer offers them */
    uint32_t count, driver_count;           /* offered, and the driver's */
    VkMemoryType types[VK_MAX_MEMORY_TYPES];
    uint32_t driver[VK_MAX_MEMORY_TYPES];   /* offered index -> the driver's index */
    uint32_t widened[VK_MAX_MEMORY_TYPES];  /* driver index -> the offered bits of its memory: itself and its non-coherent twin */
    uint32_t itself[VK_MAX_MEMORY_TYPES];   /* driver index -> the offered bit of the very same type */
};

/* The members of this layer's own in the tables of layer_common.h. */
#define LAYER_INSTANCE_FIELDS                                                                                                         \
    uint32_t api_version; /* VkApplicationInfo::apiVersion, 1.0 where none */                                                         \
    PFN_vkGetPhysicalDeviceProperties properties;                                                                                     \
    PFN_vkGetPhysicalDeviceMemoryProperties memory_properties;                                                                        \
    PFN_vkGetPhysicalDeviceMemoryProperties2 memory_properties2[2]; /* indexed by enum variant; NULL where the next layer has none */ \
    PFN_vkGetPhysicalDeviceFeatures2 features2[2];                                                                                    \
    PFN_vkGetPhysicalDeviceProperties2 properties2[2];                                                                                \
    PFN_vkEnumerateDeviceExtensionProperties extensions;
#define LAYER_DEVICE_FIELDS                                                                                            \
    struct layout layout;                                                                                              \
    int placed;   /* the layer's VK_EXT_map_memory_placed enabled: it maps every exportable HOST_VISIBLE allocation */ \
    int reserve;  /* and memoryUnmapReserve */                                                                         \
    off_t origin; /* where the bytes of the memory last exported started in its fd; -1: none yet */                    \
    PFN_vkFlushMappedMemoryRanges flush;                                                                               \
    PFN_vkInvalidateMappedMemoryRanges invalidate;                                                                     \
    PFN_vkGetMemoryFdKHR get_fd;                                                                                       \
    PFN_vkGetBufferMemoryRequirements buffer_requirements;                                                             \
    PFN_vkGetImageMemoryRequirements image_requirements;                                                               \
    PFN_vkGetBufferMemoryRequirements2 buffer_requirements2[2]; /* indexed by enum variant */                          \
    PFN_vkGetImageMemoryRequirements2 image_requirements2[2];                                                          \
    PFN_vkGetDeviceBufferMemoryRequirements device_buffer_requirements[2];                                             \
    PFN_vkGetDeviceImageMemoryRequirements device_image_requirements[2];                                               \
    PFN_vkGetMemoryFdPropertiesKHR fd_properties;                                                                      \
    PFN_vkGetMemoryHostPointerPropertiesEXT host_pointer_properties;
#define LAYER_MEMORY_FIELDS /* of a memory the layer maps itself */                                          \
    int coherent; /* of a HOST_COHERENT type: mapped MAP_SHARED, nothing to flush */                         \
    int fd;       /* the exported opaque fd, owned by the layer */                                           \
    off_t origin; /* where the memory's bytes start in it */                                                 \
    /* the current mapping; base is NULL while the memory is not mapped */                                   \
    unsigned char *base;       /* what the application sees, page aligned: the memory's byte `start` */      \
    unsigned char *shared;     /* non-coherent: a MAP_SHARED mapping of the same pages, the memory itself */ \
    size_t length;             /* bytes mapped at base (and at shared): whole pages */                       \
    VkDeviceSize start;        /* the mapped offset rounded down to a page */                                \
    VkDeviceSize offset, size; /* the range the application mapped, VK_WHOLE_SIZE resolved */                \
    int placed;                /* the current mapping was placed */                                          \
    unsigned char *stale;      /* stale-after-placed: where the last placed map was, unmapped since */
#include "layer_common.h"

#ifndef VK_EXT_map_memory_placed /* headers older than 1.3.277 */
typedef struct VkPhysicalDeviceMapMemoryPlacedFeaturesEXT {
    VkStructureType sType;
    void *pNext;
    VkBool32 memoryMapPlaced;
    VkBool32 memoryMapRangePlaced;
    VkBool32 memoryUnmapReserve;
} VkPhysicalDeviceMapMemoryPlacedFeaturesEXT;
typedef struct VkPhysicalDeviceMapMemoryPlacedPropertiesEXT {
    VkStructureType sType;
    void *pNext;
    VkDeviceSize minPlacedMemoryMapAlignment;
} VkPhysicalDeviceMapMemoryPlacedPropertiesEXT;
typedef struct VkMemoryMapPlacedInfoEXT {
    VkStructureType sType;
    const void *pNext;
    void *pPlacedAddress;
} VkMemoryMapPlacedInfoEXT;
#endif

/* The registry's values (vk.xml), whatever the headers define. */
#define STYPE_PLACED_FEATURES ((VkStructureType)1000272000)   /* VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_FEATURES_EXT */
#define STYPE_PLACED_PROPERTIES ((VkStructureType)1000272001) /* VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAP_MEMORY_PLACED_PROPERTIES_EXT */
#define STYPE_PLACED_INFO ((VkStructureType)1000272002)       /* VK_STRUCTURE_TYPE_MEMORY_MAP_PLACED_INFO_EXT */
#define RESERVE_BIT 0x1u                                       /* VK_MEMORY_UNMAP_RESERVE_BIT_EXT */
#define PLACED_NAME "VK_EXT_map_memory_placed"
#define LAYER_NAME "VK_LAYER_VKMAP_noncoherent"

#define HOST_VISIBLE VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT
#define HOST_COHERENT VK_MEMORY_PROPERTY_HOST_COHERENT_BIT
#define OPAQUE_FD VK_EXTERNAL_MEMORY_HANDLE_TYPE_OPAQUE_FD_BIT

enum bug { NONE, FLUSH_MOVES_NOTHING, INVALIDATE_MOVES_NOTHING, STALE_AFTER_PLACED };
enum variant { PLAIN, KHR_SUFFIX }; /* the core name of a promoted command, and its KHR alias */

static size_t page(void) {
    static size_t size;
    if (!size) size = (size_t)sysconf(_SC_PAGESIZE);
    return size;
}

static enum bug bug(void) {
    const char *b = getenv("VKMAP_NONCOHERENT_LAYER_BUG");
    if (!b) return NONE;
    return !strcmp(b, "flush-moves-nothing")        ? FLUSH_MOVES_NOTHING
           : !strcmp(b, "invalidate-moves-nothing") ? INVALIDATE_MOVES_NOTHING
           : !strcmp(b, "stale-after-placed")       ? STALE_AFTER_PLACED
                                                    : NONE;
}

/* Unmaps without flushing, closes the fd; the entry is out of the list.  On vkFreeMemory: "If a memory
 * object is mapped at the time it is freed, it is implicitly unmapped.", and, the memory being
 * non-coherent or not, without a flush: "host writes are not implicitly flushed when the memory object
 * is unmapped". */
static void release(struct memory *m) {
    if (m->base) munmap(m->base, m->length);
    if (m->shared) munmap(m->shared, m->length);
    if (m->fd >= 0) close(m->fd);
    free(m);
}

static const void *find_struct(const void *chain, VkStructureType stype) {
    for (const VkBaseInStructure *s = chain; s; s = s->pNext)
        if (s->sType == stype) return s;
    return NULL;
}

/* ---- pNext chains: the application's are never written; what goes down is a copy where it differs ---- */

static size_t known_size(VkStructureType stype) { /* structures that can precede the one a copy replaces */
    switch ((int)stype) {
    case VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO: return sizeof(VkLayerDeviceCreateInfo);
    case VK_STRUCTURE_TYPE_DEVICE_GROUP_DEVICE_CREATE_INFO: return sizeof(VkDeviceGroupDeviceCreateInfo);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2: return sizeof(VkPhysicalDeviceFeatures2);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES: return sizeof(VkPhysicalDeviceVulkan11Features);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES: return sizeof(VkPhysicalDeviceVulkan12Features);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES: return sizeof(VkPhysicalDeviceVulkan13Features);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SYNCHRONIZATION_2_FEATURES: return sizeof(VkPhysicalDeviceSynchronization2Features);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES: return sizeof(VkPhysicalDeviceTimelineSemaphoreFeatures);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_BUFFER_DEVICE_ADDRESS_FEATURES: return sizeof(VkPhysicalDeviceBufferDeviceAddressFeatures);
    case VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PRIORITY_FEATURES_EXT: return sizeof(VkPhysicalDeviceMemoryPriorityFeaturesEXT);
    case VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO: return sizeof(VkMemoryAllocateFlagsInfo);
    case VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO: return sizeof(VkMemoryDedicatedAllocateInfo);
    case VK_STRUCTURE_TYPE_MEMORY_PRIORITY_ALLOCATE_INFO_EXT: return sizeof(VkMemoryPriorityAllocateInfoEXT);
    case VK_STRUCTURE_TYPE_MEMORY_OPAQUE_CAPTURE_ADDRESS_ALLOCATE_INFO: return sizeof(VkMemoryOpaqueCaptureAddressAllocateInfo);
    default: return 0;
    }
}

/* The chain `head` with `target` (one of its structures) replaced by `with` (NULL: left out).  The
 * structures before `target` are copied into one block, *block, which the caller frees once the call
 * down has returned; those after it are shared.  Returns 0 where a structure before `target` is one
 * this layer does not know the size of (then nothing is allocated). */
static int replace_in_chain(const void *head, const void *target, VkBaseOutStructure *with, const void **out, void **block) {
    const VkBaseInStructure *tail = ((const VkBaseInStructure *)target)->pNext;
    size_t total = 0;
    *block = NULL;
    for (const VkBaseInStructure *s = head; s != target; s = s->pNext) {
        size_t size = known_size(s->sType);
        if (!size) return 0;
        total += (size + 15) & ~(size_t)15;
    }
    if (with) with->pNext = (VkBaseOutStructure *)tail;
    const void *rest = with ? (const void *)with : (const void *)tail;
    if (!total) {
        *out = rest;
        return 1;
    }
    unsigned char *copies = malloc(total);
    if (!copies) return 0;
    VkBaseOutStructure *previous = NULL;
    size_t at = 0;
    for (const VkBaseInStructure *s = head; s != target; s = s->pNext) {
        size_t size = known_size(s->sType);
        VkBaseOutStructure *copy = (VkBaseOutStructure *)(copies + at);
        memcpy(copy, s, size);
        if (previous) previous->pNext = copy;
        previous = copy;
        at += (size + 15) & ~(size_t)15;
    }
    previous->pNext = (VkBaseOutStructure *)rest;
    *out = copies;
    *block = copies;
    return 1;
}

/* ---- memory types ---- */

static int strict_subset(VkMemoryPropertyFlags x, VkMemoryPropertyFlags y) { return (x & y) == x && x != y; }

static void lay_out(const VkPhysicalDeviceMemoryProperties *driver, int extend, struct layout *l) {
    memset(l, 0, sizeof *l);
    l->driver_count = l->count = driver->memoryTypeCount;
    for (uint32_t i = 0; i < driver->memoryTypeCount; i++) l->types[i] = driver->memoryTypes[i], l->driver[i] = i;
    for (uint32_t d = 0; extend && d < driver->memoryTypeCount && l->count < VK_MAX_MEMORY_TYPES; d++) {
        VkMemoryPropertyFlags flags = driver->memoryTypes[d].propertyFlags;
        /* "There must be at least one memory type with both the VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT and
         * VK_MEMORY_PROPERTY_HOST_COHERENT_BIT bits set in its propertyFlags.": the coherent type stays; its
         * twin is added beside it. */
        if ((flags & (HOST_VISIBLE | HOST_COHERENT)) != (HOST_VISIBLE | HOST_COHERENT)) continue;
        VkMemoryPropertyFlags twin = flags & ~(VkMemoryPropertyFlags)HOST_COHERENT;
        /* "For each pair of elements X and Y returned in memoryTypes, X must be placed at a lower index
         * position than Y if: the set of bit flags returned in the propertyFlags member of X is a strict
         * subset of the set of bit flags returned in the propertyFlags member of Y; or ...": the twin goes
         * just before the first type whose flags are a strict superset of its own (at the latest, before
         * the coherent type it comes from).  Every type whose flags are a strict subset of the twin's is a
         * strict subset of that one's too, so already before it, and the driver's order between the others
         * is kept. */
        uint32_t at = 0;
        while (!strict_subset(twin, l->types[at].propertyFlags)) at++;
        memmove(&l->types[at + 1], &l->types[at], (l->count - at) * sizeof l->types[0]);
        memmove(&l->driver[at + 1], &l->driver[at], (l->count - at) * sizeof l->driver[0]);
        l->types[at] = (VkMemoryType){.propertyFlags = twin, .heapIndex = driver->memoryTypes[d].heapIndex}; /* the same heap */
        l->driver[at] = d;
        l->count++;
    }
    for (uint32_t i = 0; i < l->count; i++) {
        uint32_t d = l->driver[i];
        l->widened[d] |= 1u << i;
        if (l->types[i].propertyFlags == driver->memoryTypes[d].propertyFlags) l->itself[d] = 1u << i;
    }
}

/* memoryTypeBits: "memoryTypeBits is a bitmask and contains one bit set for every supported memory type
 * for the resource.": a resource that the driver's type supports is supported by its non-coherent twin,
 * which is the same memory. */
static uint32_t widen(const struct layout *l, uint32_t bits) {
    uint32_t out = 0;
    for (uint32_t d = 0; d < l->driver_count; d++)
        if (bits >> d & 1) out |= l->widened[d];
    return out;
}

static int has_extension(const VkExtensionProperties *list, uint32_t count, const char *name) {
    for (uint32_t i = 0; i < count; i++)
        if (!strcmp(list[i].extensionName, name)) return 1;
    return 0;
}

/* The driver's device extensions (calloc'd, with one spare entry), or NULL. */
static VkExtensionProperties *driver_extensions(struct instance *in, VkPhysicalDevice physical, uint32_t *count) {
    *count = 0;
    if (in->extensions(physical, NULL, count, NULL) < 0) return NULL;
    VkExtensionProperties *list = calloc(*count + 1, sizeof *list);
    if (list && in->extensions(physical, NULL, count, list) < 0) {
        free(list);
        return NULL;
    }
    return list;
}

enum { TWINS = 1, PLACED = 2 };

/* What the layer can add on this driver: it needs exportable memory (an fd to map) for either, and
 * VK_KHR_map_memory2 for VK_EXT_map_memory_placed ("Depends on VK_KHR_map_memory2"). */
static int additions(const VkExtensionProperties *list, uint32_t count) {
    if (!has_extension(list, count, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME)) return 0;
    return TWINS | (has_extension(list, count, "VK_KHR_map_memory2") && !has_extension(list, count, PLACED_NAME) ? PLACED : 0);
}

static int capable(struct instance *in, VkPhysicalDevice physical) {
    uint32_t count;
    VkExtensionProperties *list = driver_extensions(in, physical, &count);
    int can = list ? additions(list, count) : 0;
    free(list);
    return can;
}

static void offer(const struct layout *l, VkPhysicalDeviceMemoryProperties *out) {
    out->memoryTypeCount = l->count; /* the heaps are the driver's */
    memcpy(out->memoryTypes, l->types, sizeof l->types);
}

/* ---- physical-device queries ---- */

static void VKAPI_CALL GetPhysicalDeviceMemoryProperties(VkPhysicalDevice physical, VkPhysicalDeviceMemoryProperties *out) {
    struct instance *in = instance_of(physical);
    in->memory_properties(physical, out);
    struct layout l;
    lay_out(out, capable(in, physical) & TWINS, &l);
    offer(&l, out);
}

static void memory_properties2(enum variant v, VkPhysicalDevice physical, VkPhysicalDeviceMemoryProperties2 *out) {
    struct instance *in = instance_of(physical);
    in->memory_properties2[v](physical, out); /* a budget in the chain is per heap: the heaps are unchanged */
    struct layout l;
    lay_out(&out->memoryProperties, capable(in, physical) & TWINS, &l);
    offer(&l, &out->memoryProperties);
}
static void VKAPI_CALL GetPhysicalDeviceMemoryProperties2(VkPhysicalDevice p, VkPhysicalDeviceMemoryProperties2 *out) { memory_properties2(PLAIN, p, out); }
static void VKAPI_CALL GetPhysicalDeviceMemoryProperties2KHR(VkPhysicalDevice p, VkPhysicalDeviceMemoryProperties2 *out) { memory_properties2(KHR_SUFFIX, p, out); }

static void features2(enum variant v, VkPhysicalDevice physical, VkPhysicalDeviceFeatures2 *out) {
    struct instance *in = instance_of(physical);
    in->features2[v](physical, out); /* the driver passes over a structure it does not know */
    if (!(capable(in, physical) & PLACED)) return;
    for (VkBaseOutStructure *s = (VkBaseOutStructure *)out; s; s = s->pNext)
        if (s->sType == STYPE_PLACED_FEATURES) {
            VkPhysicalDeviceMapMemoryPlacedFeaturesEXT *f = (VkPhysicalDeviceMapMemoryPlacedFeaturesEXT *)s;
            f->memoryMapPlaced = VK_TRUE;      /* "memoryMapPlaced indicates that the implementation supports placing memory maps at application-specified virtual addresses." */
            f->memoryMapRangePlaced = VK_TRUE; /* "memoryMapRangePlaced indicates that the implementation supports placing memory maps of a subrange of a memory object at application-specified virtual addresses." */
            f->memoryUnmapReserve = VK_TRUE;   /* "memoryUnmapReserve indicates that the implementation supports leaving the memory range reserved when unmapping a memory object." */
        }
}
static void VKAPI_CALL GetPhysicalDeviceFeatures2(VkPhysicalDevice p, VkPhysicalDeviceFeatures2 *out) { features2(PLAIN, p, out); }
static void VKAPI_CALL GetPhysicalDeviceFeatures2KHR(VkPhysicalDevice p, VkPhysicalDeviceFeatures2 *out) { features2(KHR_SUFFIX, p, out); }

static void properties2(enum variant v, VkPhysicalDevice physical, VkPhysicalDeviceProperties2 *out) {
    struct instance *in = instance_of(physical);
    in->properties2[v](physical, out);
    if (!(capable(in, physical) & PLACED)) return;
    for (VkBaseOutStructure *s = (VkBaseOutStructure *)out; s; s = s->pNext)
        if (s->sType == STYPE_PLACED_PROPERTIES)
            /* "minPlacedMemoryMapAlignment is the minimum alignment required for memory object offsets and
             * virtual address ranges when using placed memory mapping.": mmap places whole pages. */
            ((VkPhysicalDeviceMapMemoryPlacedPropertiesEXT *)s)->minPlacedMemoryMapAlignment = page();
}
static void VKAPI_CALL GetPhysicalDeviceProperties2(VkPhysicalDevice p, VkPhysicalDeviceProperties2 *out) { properties2(PLAIN, p, out); }
static void VKAPI_CALL GetPhysicalDeviceProperties2KHR(VkPhysicalDevice p, VkPhysicalDeviceProperties2 *out) { properties2(KHR_SUFFIX, p, out); }

static VkResult copy_out(const VkExtensionProperties *list, uint32_t count, uint32_t *asked, VkExtensionProperties *out) {
    if (!out) {
        *asked = count;
        return VK_SUCCESS;
    }
    uint32_t n = *asked < count ? *asked : count;
    memcpy(out, list, n * sizeof *list);
    *asked = n;
    return n < count ? VK_INCOMPLETE : VK_SUCCESS;
}

static VkResult VKAPI_CALL EnumerateDeviceExtensionProperties(VkPhysicalDevice physical, const char *layer, uint32_t *count, VkExtensionProperties *out) {
    static const VkExtensionProperties placed = {PLACED_NAME, 1};
    if (layer && !strcmp(layer, LAYER_NAME)) return copy_out(&placed, 1, count, out);
    struct instance *in = instance_of(physical);
    if (layer) return in->extensions(physical, layer, count, out);
    uint32_t n;
    VkExtensionProperties *list = driver_extensions(in, physical, &n);
    if (!list) return VK_ERROR_OUT_OF_HOST_MEMORY;
    if (additions(list, n) & PLACED) list[n++] = placed;
    VkResult r = copy_out(list, n, count, out);
    free(list);
    return r;
}

/* ---- layer plumbing ---- */

static void instance_created(struct instance *next, const VkInstanceCreateInfo *info) {
    VkInstance i = next->handle;
    PFN_vkGetInstanceProcAddr gipa = next->gipa;
    uint32_t version = info->pApplicationInfo ? info->pApplicationInfo->apiVersion : 0;
    next->api_version = version ? version : VK_API_VERSION_1_0;
    next->properties = (PFN_vkGetPhysicalDeviceProperties)gipa(i, "vkGetPhysicalDeviceProperties");
    next->memory_properties = (PFN_vkGetPhysicalDeviceMemoryProperties)gipa(i, "vkGetPhysicalDeviceMemoryProperties");
    next->memory_properties2[PLAIN] = (PFN_vkGetPhysicalDeviceMemoryProperties2)gipa(i, "vkGetPhysicalDeviceMemoryProperties2");
    next->memory_properties2[KHR_SUFFIX] = (PFN_vkGetPhysicalDeviceMemoryProperties2)gipa(i, "vkGetPhysicalDeviceMemoryProperties2KHR");
    next->features2[PLAIN] = (PFN_vkGetPhysicalDeviceFeatures2)gipa(i, "vkGetPhysicalDeviceFeatures2");
    next->features2[KHR_SUFFIX] = (PFN_vkGetPhysicalDeviceFeatures2)gipa(i, "vkGetPhysicalDeviceFeatures2KHR");
    next->properties2[PLAIN] = (PFN_vkGetPhysicalDeviceProperties2)gipa(i, "vkGetPhysicalDeviceProperties2");
    next->properties2[KHR_SUFFIX] = (PFN_vkGetPhysicalDeviceProperties2)gipa(i, "vkGetPhysicalDeviceProperties2KHR");
    next->extensions = (PFN_vkEnumerateDeviceExtensionProperties)gipa(i, "vkEnumerateDeviceExtensionProperties");
}

static VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice physical, const VkDeviceCreateInfo *info, const VkAllocationCallbacks *allocator, VkDevice *device) {
    PFN_vkGetDeviceProcAddr gdpa;
    PFN_vkCreateDevice create = next_create_device(physical, info, &gdpa);
    struct instance *in = instance_of(physical);
    if (!in || !create) return VK_ERROR_INITIALIZATION_FAILED;
    int can = capable(in, physical), extend = can & TWINS;

    /* What goes down: the application's extensions less VK_EXT_map_memory_placed (this layer's, not the
     * driver's), plus what exporting an fd needs; its chain less VkPhysicalDeviceMapMemoryPlacedFeaturesEXT. */
    VkDeviceCreateInfo down = *info;
    const char **names = calloc(info->enabledExtensionCount + 2, sizeof *names);
    if (!names) return VK_ERROR_OUT_OF_HOST_MEMORY;
    uint32_t n = 0;
    int placed = 0, has_fd = 0, has_external = 0;
    for (uint32_t i = 0; i < info->enabledExtensionCount; i++) {
        const char *name = info->ppEnabledExtensionNames[i];
        placed |= !strcmp(name, PLACED_NAME);
        if ((can & PLACED) && !strcmp(name, PLACED_NAME)) continue;
        has_fd |= !strcmp(name, VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME);
        has_external |= !strcmp(name, VK_KHR_EXTERNAL_MEMORY_EXTENSION_NAME);
        names[n++] = name;
    }
    if (extend) {
        VkPhysicalDeviceProperties p;
        in->properties(physical, &p);
        uint32_t version = p.apiVersion < in->api_version ? p.apiVersion : in->api_version; /* the version the device is used at */
        if (!has_fd) names[n++] = VK_KHR_EXTERNAL_MEMORY_FD_EXTENSION_NAME;
        if (!has_external && version < VK_API_VERSION_1_1) names[n++] = VK_KHR_EXTERNAL_MEMORY_EXTENSION_NAME;
    }
    down.enabledExtensionCount = n;
    down.ppEnabledExtensionNames = n ? names : NULL;
    const VkPhysicalDeviceMapMemoryPlacedFeaturesEXT *features = find_struct(info->pNext, STYPE_PLACED_FEATURES);
    void *block = NULL;
    if (features && (can & PLACED) && !replace_in_chain(info->pNext, features, NULL, &down.pNext, &block))
        down.pNext = info->pNext; /* a structure of unknown size before it: it goes down, and the driver passes over it */

    VkResult r = create(physical, &down, allocator, device);
    free(block);
    free(names);
    if (r != VK_SUCCESS) return r;
    VkDevice d = *device;
    struct device next = {
        .placed = placed && (can & PLACED),
        .reserve = placed && features && features->memoryUnmapReserve, /* the layer's or the driver's extension: the layer's maps honour it */
        .origin = -1,
        .flush = (PFN_vkFlushMappedMemoryRanges)gdpa(d, "vkFlushMappedMemoryRanges"),
        .invalidate = (PFN_vkInvalidateMappedMemoryRanges)gdpa(d, "vkInvalidateMappedMemoryRanges"),
        .get_fd = extend ? (PFN_vkGetMemoryFdKHR)gdpa(d, "vkGetMemoryFdKHR") : NULL,
        .buffer_requirements = (PFN_vkGetBufferMemoryRequirements)gdpa(d, "vkGetBufferMemoryRequirements"),
        .image_requirements = (PFN_vkGetImageMemoryRequirements)gdpa(d, "vkGetImageMemoryRequirements"),
        .buffer_requirements2 = {(PFN_vkGetBufferMemoryRequirements2)gdpa(d, "vkGetBufferMemoryRequirements2"),
                                 (PFN_vkGetBufferMemoryRequirements2)gdpa(d, "vkGetBufferMemoryRequirements2KHR")},
        .image_requirements2 = {(PFN_vkGetImageMemoryRequirements2)gdpa(d, "vkGetImageMemoryRequirements2"),
                                (PFN_vkGetImageMemoryRequirements2)gdpa(d, "vkGetImageMemoryRequirements2KHR")},
        .device_buffer_requirements = {(PFN_vkGetDeviceBufferMemoryRequirements)gdpa(d, "vkGetDeviceBufferMemoryRequirements"),
                                       (PFN_vkGetDeviceBufferMemoryRequirements)gdpa(d, "vkGetDeviceBufferMemoryRequirementsKHR")},
        .device_image_requirements = {(PFN_vkGetDeviceImageMemoryRequirements)gdpa(d, "vkGetDeviceImageMemoryRequirements"),
                                      (PFN_vkGetDeviceImageMemoryRequirements)gdpa(d, "vkGetDeviceImageMemoryRequirementsKHR")},
        .fd_properties = (PFN_vkGetMemoryFdPropertiesKHR)gdpa(d, "vkGetMemoryFdPropertiesKHR"),
        .host_pointer_properties = (PFN_vkGetMemoryHostPointerPropertiesEXT)gdpa(d, "vkGetMemoryHostPointerPropertiesEXT"),
    };
    VkPhysicalDeviceMemoryProperties driver;
    in->memory_properties(physical, &driver);
    lay_out(&driver, extend && next.get_fd, &next.layout); /* without vkGetMemoryFdKHR, nothing to map: the driver's types only */
    next.placed &= next.get_fd != NULL;
    return keep_device(&next, d, gdpa, allocator);
}

/* ---- allocation ---- */

static int imports(const void *chain) { /* the allocation imports a payload: the layer leaves its maps to the driver */
    const VkImportMemoryFdInfoKHR *fd = find_struct(chain, VK_STRUCTURE_TYPE_IMPORT_MEMORY_FD_INFO_KHR);
    const VkImportMemoryHostPointerInfoEXT *host = find_struct(chain, VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT);
    return (fd && fd->handleType) || (host && host->handleType);
}

/* Whether the memory's bytes start at `origin` in `fd`: a byte written there shows through the
 * driver's map (the memory is fresh: nobody else has its handle yet; the file's byte is put back). */
static int starts_at(int fd, off_t origin, volatile unsigned char *driver_map) {
    unsigned char saved, marks[2];
    if (pread(fd, &saved, 1, origin) != 1) return 0;
    marks[0] = saved ^ 0x5a, marks[1] = saved ^ 0xa5;
    int same = 1;
    for (int i = 0; i < 2 && same; i++) same = pwrite(fd, &marks[i], 1, origin) == 1 && driver_map[0] == marks[i];
    return pwrite(fd, &saved, 1, origin) == 1 && same;
}

/* Where the memory's bytes start in the exported fd, which is opaque: the file offset behind the
 * driver's own map of the memory, read from /proc/self/maps (the line whose range holds the driver's
 * pointer, where its device and inode are the fd's).  -1 where the driver's map is not a map of that
 * file at a page boundary (then the layer leaves the memory to the driver). */
static off_t origin_in(int fd, const void *driver_map) {
    struct stat st;
    if (fstat(fd, &st)) return -1;
    int maps = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (maps < 0) return -1;
    char buf[16384];
    size_t have = 0;
    off_t found = -1;
    int done = 0;
    while (!done) {
        ssize_t got = read(maps, buf + have, sizeof buf - 1 - have);
        if (got <= 0) break;
        have += (size_t)got;
        buf[have] = 0;
        char *line = buf, *nl;
        while (!done && (nl = memchr(line, '\n', have - (size_t)(line - buf)))) {
            *nl = 0;
            char *end;
            unsigned long lo = strtoul(line, &end, 16), hi = *end == '-' ? strtoul(end + 1, NULL, 16) : 0;
            if ((uintptr_t)driver_map >= lo && (uintptr_t)driver_map < hi) {
                unsigned long long offset, inode;
                unsigned major, minor;
                char perms[8];
                if (sscanf(line, "%*x-%*x %7s %llx %x:%x %llu", perms, &offset, &major, &minor, &inode) == 5 && inode == (unsigned long long)st.st_ino &&
                    makedev(major, minor) == st.st_dev)
                    found = (off_t)(offset + ((uintptr_t)driver_map - lo));
                done = 1;
            }
            line = nl + 1;
        }
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (have == sizeof buf - 1) have = 0; /* a line longer than the buffer: not one of ours */
    }
    close(maps);
    return found >= 0 && found % (off_t)page() == 0 ? found : -1;
}

static VkResult VKAPI_CALL AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *info, const VkAllocationCallbacks *allocator, VkDeviceMemory *memory) {
    struct device *d = device_of(device);
    VkMemoryAllocateInfo down = *info;
    uint32_t t = info->memoryTypeIndex;
    if (t < d->layout.count) down.memoryTypeIndex = d->layout.driver[t]; /* an index past the offered ones stays past the driver's */
    VkMemoryPropertyFlags flags = t < d->layout.count ? d->layout.types[t].propertyFlags : 0;
    int coherent = (flags & HOST_COHERENT) != 0;
    int mapped_here = (flags & HOST_VISIBLE) && d->get_fd && (!coherent || d->placed) && !imports(info->pNext);
    if (!mapped_here) return d->allocate(device, &down, allocator, memory);

    /* Exportable as an opaque fd, which the layer maps: a VkExportMemoryAllocateInfo in a copy of the
     * chain, merged with the application's own where it has one. */
    VkExportMemoryAllocateInfo export = {.sType = VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO, .pNext = info->pNext, .handleTypes = OPAQUE_FD};
    const VkExportMemoryAllocateInfo *theirs = find_struct(info->pNext, VK_STRUCTURE_TYPE_EXPORT_MEMORY_ALLOCATE_INFO);
    void *block = NULL;
    down.pNext = &export;
    if (theirs) {
        export.handleTypes |= theirs->handleTypes;
        if (!replace_in_chain(info->pNext, theirs, (VkBaseOutStructure *)&export, &down.pNext, &block)) down.pNext = NULL;
    }
    VkResult r = down.pNext ? d->allocate(device, &down, allocator, memory) : VK_ERROR_UNKNOWN;
    free(block);
    if (r == VK_ERROR_OUT_OF_HOST_MEMORY || r == VK_ERROR_OUT_OF_DEVICE_MEMORY) return r;
    if (r != VK_SUCCESS) { /* not exportable so: the driver's memory as asked, which the driver maps */
        down.pNext = info->pNext;
        return d->allocate(device, &down, allocator, memory);
    }
    int fd = -1;
    VkMemoryGetFdInfoKHR get = {.sType = VK_STRUCTURE_TYPE_MEMORY_GET_FD_INFO_KHR, .memory = *memory, .handleType = OPAQUE_FD};
    if (d->get_fd(device, &get, &fd) != VK_SUCCESS) fd = -1;
    void *driver_map = NULL;
    off_t origin = -1;
    if (fd >= 0 && d->map(device, *memory, 0, VK_WHOLE_SIZE, 0, &driver_map) == VK_SUCCESS) {
        if (driver_map != MAP_FAILED) { /* where the last allocation's started (checked), else where the driver's map says */
            pthread_mutex_lock(&lock);
            off_t hint = d->origin;
            pthread_mutex_unlock(&lock);
            origin = hint >= 0 && starts_at(fd, hint, driver_map) ? hint : origin_in(fd, driver_map);
            if (origin >= 0 && origin != hint) {
                pthread_mutex_lock(&lock);
                d->origin = origin;
                pthread_mutex_unlock(&lock);
            }
        }
        d->unmap(device, *memory);
    }
    struct memory *m = origin >= 0 ? calloc(1, sizeof *m) : NULL;
    if (!m) { /* without an fd, or one this layer cannot place the memory in, the driver maps it */
        if (fd >= 0) close(fd);
        return VK_SUCCESS;
    }
    *m = (struct memory){.device = device, .handle = *memory, .allocation_size = info->allocationSize, .coherent = coherent, .fd = fd, .origin = origin};
    keep_memory(m);
    return VK_SUCCESS;
}

/* ---- memory requirements: the twin of each supported type is supported ---- */

static void VKAPI_CALL GetBufferMemoryRequirements(VkDevice device, VkBuffer buffer, VkMemoryRequirements *out) {
    struct device *d = device_of(device);
    d->buffer_requirements(device, buffer, out);
    out->memoryTypeBits = widen(&d->layout, out->memoryTypeBits);
}

static void VKAPI_CALL GetImageMemoryRequirements(VkDevice device, VkImage image, VkMemoryRequirements *out) {
    struct device *d = device_of(device);
    d->image_requirements(device, image, out);
    out->memoryTypeBits = widen(&d->layout, out->memoryTypeBits);
}

static void buffer_requirements2(enum variant v, VkDevice device, const VkBufferMemoryRequirementsInfo2 *info, VkMemoryRequirements2 *out) {
    struct device *d = device_of(device);
    d->buffer_requirements2[v](device, info, out);
    out->memoryRequirements.memoryTypeBits = widen(&d->layout, out->memoryRequirements.memoryTypeBits);
}
static void VKAPI_CALL GetBufferMemoryRequirements2(VkDevice d, const VkBufferMemoryRequirementsInfo2 *i, VkMemoryRequirements2 *o) { buffer_requirements2(PLAIN, d, i, o); }
static void VKAPI_CALL GetBufferMemoryRequirements2KHR(VkDevice d, const VkBufferMemoryRequirementsInfo2 *i, VkMemoryRequirements2 *o) { buffer_requirements2(KHR_SUFFIX, d, i, o); }

static void image_requirements2(enum variant v, VkDevice device, const VkImageMemoryRequirementsInfo2 *info, VkMemoryRequirements2 *out) {
    struct device *d = device_of(device);
    d->image_requirements2[v](device, info, out);
    out->memoryRequirements.memoryTypeBits = widen(&d->layout, out->memoryRequirements.memoryTypeBits);
}
static void VKAPI_CALL GetImageMemoryRequirements2(VkDevice d, const VkImageMemoryRequirementsInfo2 *i, VkMemoryRequirements2 *o) { image_requirements2(PLAIN, d, i, o); }
static void VKAPI_CALL GetImageMemoryRequirements2KHR(VkDevice d, const VkImageMemoryRequirementsInfo2 *i, VkMemoryRequirements2 *o) { image_requirements2(KHR_SUFFIX, d, i, o); }

static void device_buffer_requirements(enum variant v, VkDevice device, const VkDeviceBufferMemoryRequirements *info, VkMemoryRequirements2 *out) {
    struct device *d = device_of(device);
    d->device_buffer_requirements[v](device, info, out);
    out->memoryRequirements.memoryTypeBits = widen(&d->layout, out->memoryRequirements.memoryTypeBits);
}
static void VKAPI_CALL GetDeviceBufferMemoryRequirements(VkDevice d, const VkDeviceBufferMemoryRequirements *i, VkMemoryRequirements2 *o) { device_buffer_requirements(PLAIN, d, i, o); }
static void VKAPI_CALL GetDeviceBufferMemoryRequirementsKHR(VkDevice d, const VkDeviceBufferMemoryRequirements *i, VkMemoryRequirements2 *o) { device_buffer_requirements(KHR_SUFFIX, d, i, o); }

static void device_image_requirements(enum variant v, VkDevice device, const VkDeviceImageMemoryRequirements *info, VkMemoryRequirements2 *out) {
    struct device *d = device_of(device);
    d->device_image_requirements[v](device, info, out);
    out->memoryRequirements.memoryTypeBits = widen(&d->layout, out->memoryRequirements.memoryTypeBits);
}
static void VKAPI_CALL GetDeviceImageMemoryRequirements(VkDevice d, const VkDeviceImageMemoryRequirements *i, VkMemoryRequirements2 *o) { device_image_requirements(PLAIN, d, i, o); }
static void VKAPI_CALL GetDeviceImageMemoryRequirementsKHR(VkDevice d, const VkDeviceImageMemoryRequirements *i, VkMemoryRequirements2 *o) { device_image_requirements(KHR_SUFFIX, d, i, o); }

static VkResult VKAPI_CALL GetMemoryFdPropertiesKHR(VkDevice device, VkExternalMemoryHandleTypeFlagBits type, int fd, VkMemoryFdPropertiesKHR *out) {
    struct device *d = device_of(device);
    VkResult r = d->fd_properties(device, type, fd, out);
    if (r == VK_SUCCESS) out->memoryTypeBits = widen(&d->layout, out->memoryTypeBits);
    return r;
}

static VkResult VKAPI_CALL GetMemoryHostPointerPropertiesEXT(VkDevice device, VkExternalMemoryHandleTypeFlagBits type, const void *pointer, VkMemoryHostPointerPropertiesEXT *out) {
    struct device *d = device_of(device);
    VkResult r = d->host_pointer_properties(device, type, pointer, out);
    if (r != VK_SUCCESS) return r;
    /* "memoryTypeBits is a bitmask containing one bit set for every memory type which the specified host
     * pointer can be imported as.": as the driver's own types (renumbered), not their non-coherent twins. */
    uint32_t bits = 0;
    for (uint32_t t = 0; t < d->layout.driver_count; t++)
        if (out->memoryTypeBits >> t & 1) bits |= d->layout.itself[t];
    out->memoryTypeBits = bits;
    return r;
}

/* ---- maps ---- */

/* The layer's own map of `m` (the lock held).  ppData - offset is a multiple of the page size:
 * "The value of the returned pointer minus offset must be aligned to
 * VkPhysicalDeviceLimits::minMemoryMapAlignment." (the driver's minMemoryMapAlignment divides a page). */
static VkResult map_here(struct memory *m, VkDeviceSize offset, VkDeviceSize size, int placed, void *address, void **ppData) {
    if (m->base || offset >= m->allocation_size) return VK_ERROR_MEMORY_MAP_FAILED; /* already mapped, or out of range: invalid usage */
    /* "size is the size of the memory range to map, or VK_WHOLE_SIZE to map from offset to the end of the allocation." */
    if (size == VK_WHOLE_SIZE) size = m->allocation_size - offset;
    if (size == 0 || size > m->allocation_size - offset) return VK_ERROR_MEMORY_MAP_FAILED;
    size_t pg = page();
    VkDeviceSize start = offset & ~(VkDeviceSize)(pg - 1);
    size_t length = (size_t)((offset - start + size + pg - 1) & ~(VkDeviceSize)(pg - 1));
    if (!placed && m->stale && bug() == STALE_AFTER_PLACED) {
        /* Broken on purpose: the address of the last placed map, unmapped since, handed out again. */
        m->base = m->stale, m->shared = NULL, m->length = length, m->start = start, m->offset = offset, m->size = size, m->placed = 0;
        m->stale = NULL;
        *ppData = m->base + (offset - start);
        return VK_SUCCESS;
    }
    int fixed = 0;
    if (placed) {
        /* "If it cannot place the map at the requested address for any reason, the memory object is left
         * unmapped and vkMapMemory2 will return VK_ERROR_MEMORY_MAP_FAILED." */
        if (!address || (uintptr_t)address % pg || start != offset) return VK_ERROR_MEMORY_MAP_FAILED;
        /* "The implementation will place the memory map at the specified address, replacing any existing
         * maps in the specified memory range." */
        fixed = MAP_FIXED;
    }
    unsigned char *shared = NULL;
    if (!m->coherent) {
        /* The memory itself, which flushes write and invalidates read. */
        shared = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED, m->fd, m->origin + (off_t)start);
        /* "vkMapMemory will fail if the implementation is unable to allocate an appropriately sized
         * contiguous virtual address range, e.g. due to virtual address space fragmentation or platform
         * limits.  In such cases, vkMapMemory must return VK_ERROR_MEMORY_MAP_FAILED." */
        if (shared == MAP_FAILED) return VK_ERROR_MEMORY_MAP_FAILED;
    }
    /* Coherent: the memory.  Non-coherent: a private view of it, copy-on-write (a map of any size costs
     * nothing until written).  "Mapping non-coherent memory does not implicitly invalidate that memory."
     * A page of the view that the host has not written shows the memory's current bytes, as the memory
     * is still behind it; one the host has written keeps its own until an invalidate. */
    int sharing = m->coherent ? MAP_SHARED : MAP_PRIVATE | MAP_NORESERVE;
    unsigned char *base = mmap(placed ? address : NULL, length, PROT_READ | PROT_WRITE, sharing | fixed, m->fd, m->origin + (off_t)start);
    if (base == MAP_FAILED || (placed && base != address)) {
        if (base != MAP_FAILED) munmap(base, length);
        if (shared) munmap(shared, length);
        return VK_ERROR_MEMORY_MAP_FAILED; /* the memory stays unmapped */
    }
    m->base = base, m->shared = shared, m->length = length, m->start = start, m->offset = offset, m->size = size, m->placed = placed;
    /* "If successful, ppData will be set to the same value as VkMemoryMapPlacedInfoEXT::pPlacedAddress
     * and vkMapMemory2 will return VK_SUCCESS." (offset == start there) */
    *ppData = base + (offset - start);
    return VK_SUCCESS;
}

static VkResult map(VkDevice device, enum entry e, const VkMemoryMapInfoKHR *info, void **ppData) {
    struct device *d = device_of(device);
    int placed = (info->flags & PLACED_BIT) != 0;
    const VkMemoryMapPlacedInfoEXT *where = placed ? find_struct(info->pNext, STYPE_PLACED_INFO) : NULL;
    pthread_mutex_lock(&lock);
    struct memory *m = *find_memory(info->memory);
    VkResult r = VK_ERROR_MEMORY_MAP_FAILED;
    if (m) r = map_here(m, info->offset, info->size, placed && e != LEGACY, where ? where->pPlacedAddress : NULL, ppData);
    pthread_mutex_unlock(&lock);
    if (m) return r;
    /* The driver's memory: it cannot place a map ("If it cannot place the map at the requested address
     * for any reason, the memory object is left unmapped and vkMapMemory2 will return
     * VK_ERROR_MEMORY_MAP_FAILED."). */
    if (placed && d->placed) return VK_ERROR_MEMORY_MAP_FAILED;
    return e == LEGACY ? d->map(device, info->memory, info->offset, info->size, info->flags, ppData) : d->map2[e](device, info, ppData);
}

/* "Unmapping non-coherent memory does not implicitly flush the host mapped memory, and host writes that
 * have not been flushed may not ever be visible to the device.  However, implementations must ensure that
 * writes that have not been flushed do not become visible to any other memory.": the private view goes,
 * with whatever was written in it alone. */
static VkResult unmap_here(struct device *d, struct memory *m, VkMemoryUnmapFlagsKHR flags) {
    if (!m->base) return VK_SUCCESS; /* not mapped: invalid usage */
    if (flags & RESERVE_BIT && d->reserve) {
        /* "VK_MEMORY_UNMAP_RESERVE_BIT_EXT requests that virtual address range currently occupied by the
         * memory map remain reserved after the vkUnmapMemory2 call completes.  Future system memory map
         * operations or calls to vkMapMemory or vkMapMemory2 will not return addresses in that range unless
         * the range has since been unreserved by the client or the mapping is explicitly placed in that
         * range by calling vkMapMemory2 with VK_MEMORY_MAP_PLACED_BIT_EXT, or doing the system memory map
         * equivalent.": an inaccessible mapping takes the map's pages. */
        void *reserved = mmap(m->base, m->length, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        /* "When VK_MEMORY_UNMAP_RESERVE_BIT_EXT is set, the memory unmap operation may fail, in which case
         * the memory object will remain host mapped and vkUnmapMemory2 will return
         * VK_ERROR_MEMORY_MAP_FAILED." */
        if (reserved == MAP_FAILED) return VK_ERROR_MEMORY_MAP_FAILED;
    } else {
        munmap(m->base, m->length);
        if (m->placed) m->stale = m->base;
    }
    if (m->shared) munmap(m->shared, m->length);
    m->base = m->shared = NULL;
    return VK_SUCCESS;
}

static VkResult unmap(VkDevice device, enum entry e, const VkMemoryUnmapInfoKHR *info) {
    struct device *d = device_of(device);
    pthread_mutex_lock(&lock);
    struct memory *m = *find_memory(info->memory);
    VkResult r = m ? unmap_here(d, m, info->flags) : VK_SUCCESS;
    pthread_mutex_unlock(&lock);
    if (m) return r;
    /* The driver's map cannot be left reserved: the unmap fails, as the quoted sentence above allows. */
    if (info->flags & RESERVE_BIT && d->placed) return VK_ERROR_MEMORY_MAP_FAILED;
    if (e == LEGACY) {
        d->unmap(device, info->memory);
        return VK_SUCCESS;
    }
    return d->unmap2[e](device, info);
}

/* ---- flush and invalidate: the bytes move between the view and the memory ---- */

static int pagemap_fd = -1;
static void open_pagemap(void) { pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC); }

static int pagemap(void) { /* this process's page table, or -1 */
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, open_pagemap);
    return pagemap_fd;
}

#define PRESENT (1ull << 63)
#define SWAPPED (1ull << 62)
#define FILE_PAGE (1ull << 61) /* file-backed (or shared anonymous): a private page the host never wrote */

/* Copies [view, view + length) into [memory, memory + length) (flush), or the reverse (invalidate),
 * page by page, passing over the pages of the view that are still the memory's own: there the two
 * already hold the same bytes, and copying could only overwrite a device write. */
static void move(unsigned char *view, unsigned char *memory, size_t length, int flush) {
    size_t pg = page();
    uintptr_t first = (uintptr_t)view / pg, last = ((uintptr_t)view + length - 1) / pg;
    int fd = pagemap();
    unsigned char *run = NULL; /* the start of the run of written pages being gathered */
    for (uintptr_t p = first; p <= last;) {
        uint64_t entries[512];
        size_t n = last - p + 1 < 512 ? last - p + 1 : 512;
        int known = fd >= 0 && pread(fd, entries, n * sizeof *entries, (off_t)(p * sizeof *entries)) == (ssize_t)(n * sizeof *entries);
        for (size_t i = 0; i < n; i++) {
            uint64_t e = known ? entries[i] : 0;
            int written = !known || ((e & (PRESENT | SWAPPED)) && !(e & FILE_PAGE));
            unsigned char *here = (unsigned char *)((p + i) * pg);
            if (here < view) here = view;
            if (written && !run) run = here;
            if (!written && run) {
                size_t at = (size_t)(run - view), count = (size_t)(here - run);
                flush ? memcpy(memory + at, run, count) : memcpy(run, memory + at, count);
                run = NULL;
            }
        }
        p += n;
    }
    if (run) {
        size_t at = (size_t)(run - view), count = length - at;
        flush ? memcpy(memory + at, run, count) : memcpy(run, memory + at, count);
    }
}

static VkResult ranges(VkDevice device, uint32_t count, const VkMappedMemoryRange *asked, int flush) {
    struct device *d = device_of(device);
    VkMappedMemoryRange *down = calloc(count ? count : 1, sizeof *down); /* the driver's memory's ranges */
    if (!down) return VK_ERROR_OUT_OF_HOST_MEMORY;
    uint32_t n = 0;
    enum bug b = bug();
    for (uint32_t i = 0; i < count; i++) {
        pthread_mutex_lock(&lock);
        struct memory *m = *find_memory(asked[i].memory);
        struct memory now = m ? *m : (struct memory){0};
        pthread_mutex_unlock(&lock);
        if (!m) {
            down[n++] = asked[i];
            continue;
        }
        if (now.coherent || !now.base) continue; /* coherent: the map is the memory; not mapped: invalid usage */
        /* "size is either the size of range, or VK_WHOLE_SIZE to affect the range from offset to the end of
         * the current mapping of the allocation."  Valid ranges are whole atoms ("offset must be a multiple
         * of VkPhysicalDeviceLimits::nonCoherentAtomSize") within the mapping; a range is kept to it. */
        VkDeviceSize end = now.offset + now.size;
        VkDeviceSize lo = asked[i].offset > now.offset ? asked[i].offset : now.offset;
        VkDeviceSize hi = asked[i].size == VK_WHOLE_SIZE || asked[i].offset + asked[i].size > end ? end : asked[i].offset + asked[i].size;
        if (lo >= hi) continue;
        if (flush && b == FLUSH_MOVES_NOTHING) continue;
        if (!flush && b == INVALIDATE_MOVES_NOTHING) continue;
        move(now.base + (lo - now.start), now.shared + (lo - now.start), (size_t)(hi - lo), flush);
    }
    VkResult r = VK_SUCCESS;
    if (n) r = flush ? d->flush(device, n, down) : d->invalidate(device, n, down);
    free(down);
    return r;
}

/* "vkFlushMappedMemoryRanges guarantees that host writes to the memory ranges described by pMemoryRanges
 * are made available to the host memory domain, such that they can be made available to the device memory
 * domain via memory domain operations using the VK_ACCESS_HOST_WRITE_BIT access type.": the view's bytes
 * are copied into the memory, which the device reads. */
static VkResult VKAPI_CALL FlushMappedMemoryRanges(VkDevice device, uint32_t count, const VkMappedMemoryRange *ranges_) { return ranges(device, count, ranges_, 1); }

/* "vkInvalidateMappedMemoryRanges guarantees that device writes to the memory ranges described by
 * pMemoryRanges, which have been made available to the host memory domain using the
 * VK_ACCESS_HOST_WRITE_BIT and VK_ACCESS_HOST_READ_BIT access types, are made visible to the host.": the
 * memory's bytes are copied into the view.  "If a range of non-coherent memory is written by the host and
 * then invalidated without first being flushed, its contents are undefined.": they are the memory's. */
static VkResult VKAPI_CALL InvalidateMappedMemoryRanges(VkDevice device, uint32_t count, const VkMappedMemoryRange *ranges_) { return ranges(device, count, ranges_, 0); }

/* ---- name lookup ---- */

static const struct {
    const char *name;
    PFN_vkVoidFunction fn;
} device_functions[] = {
    {"vkDestroyDevice", (PFN_vkVoidFunction)DestroyDevice},
    {"vkAllocateMemory", (PFN_vkVoidFunction)AllocateMemory},
    {"vkFreeMemory", (PFN_vkVoidFunction)FreeMemory},
    {"vkMapMemory", (PFN_vkVoidFunction)MapMemory},
    {"vkUnmapMemory", (PFN_vkVoidFunction)UnmapMemory},
    {"vkMapMemory2KHR", (PFN_vkVoidFunction)MapMemory2KHR},
    {"vkUnmapMemory2KHR", (PFN_vkVoidFunction)UnmapMemory2KHR},
    {"vkMapMemory2", (PFN_vkVoidFunction)MapMemory2},
    {"vkUnmapMemory2", (PFN_vkVoidFunction)UnmapMemory2},
    {"vkFlushMappedMemoryRanges", (PFN_vkVoidFunction)FlushMappedMemoryRanges},
    {"vkInvalidateMappedMemoryRanges", (PFN_vkVoidFunction)InvalidateMappedMemoryRanges},
    {"vkGetBufferMemoryRequirements", (PFN_vkVoidFunction)GetBufferMemoryRequirements},
    {"vkGetImageMemoryRequirements", (PFN_vkVoidFunction)GetImageMemoryRequirements},
    {"vkGetBufferMemoryRequirements2", (PFN_vkVoidFunction)GetBufferMemoryRequirements2},
    {"vkGetBufferMemoryRequirements2KHR", (PFN_vkVoidFunction)GetBufferMemoryRequirements2KHR},
    {"vkGetImageMemoryRequirements2", (PFN_vkVoidFunction)GetImageMemoryRequirements2},
    {"vkGetImageMemoryRequirements2KHR", (PFN_vkVoidFunction)GetImageMemoryRequirements2KHR},
    {"vkGetDeviceBufferMemoryRequirements", (PFN_vkVoidFunction)GetDeviceBufferMemoryRequirements},
    {"vkGetDeviceBufferMemoryRequirementsKHR", (PFN_vkVoidFunction)GetDeviceBufferMemoryRequirementsKHR},
    {"vkGetDeviceImageMemoryRequirements", (PFN_vkVoidFunction)GetDeviceImageMemoryRequirements},
    {"vkGetDeviceImageMemoryRequirementsKHR", (PFN_vkVoidFunction)GetDeviceImageMemoryRequirementsKHR},
    {"vkGetMemoryFdPropertiesKHR", (PFN_vkVoidFunction)GetMemoryFdPropertiesKHR},
    {"vkGetMemoryHostPointerPropertiesEXT", (PFN_vkVoidFunction)GetMemoryHostPointerPropertiesEXT},
};
#define N_DEVICE_FUNCTIONS (sizeof device_functions / sizeof *device_functions)

static const struct {
    const char *name;
    PFN_vkVoidFunction fn;
} physical_functions[] = {
    {"vkGetPhysicalDeviceMemoryProperties", (PFN_vkVoidFunction)GetPhysicalDeviceMemoryProperties},
    {"vkGetPhysicalDeviceMemoryProperties2", (PFN_vkVoidFunction)GetPhysicalDeviceMemoryProperties2},
    {"vkGetPhysicalDeviceMemoryProperties2KHR", (PFN_vkVoidFunction)GetPhysicalDeviceMemoryProperties2KHR},
    {"vkGetPhysicalDeviceFeatures2", (PFN_vkVoidFunction)GetPhysicalDeviceFeatures2},
    {"vkGetPhysicalDeviceFeatures2KHR", (PFN_vkVoidFunction)GetPhysicalDeviceFeatures2KHR},
    {"vkGetPhysicalDeviceProperties2", (PFN_vkVoidFunction)GetPhysicalDeviceProperties2},
    {"vkGetPhysicalDeviceProperties2KHR", (PFN_vkVoidFunction)GetPhysicalDeviceProperties2KHR},
};
#define N_PHYSICAL_FUNCTIONS (sizeof physical_functions / sizeof *physical_functions)

/* A name is ours only where the next layer has it too: each of ours calls down to it. */
EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name) {
    struct device *d = device ? device_of(device) : NULL;
    if (!d) return NULL;
    if (!strcmp(name, "vkGetDeviceProcAddr")) return (PFN_vkVoidFunction)vkGetDeviceProcAddr;
    PFN_vkVoidFunction next = d->gdpa(device, name);
    if (!next) return NULL;
    for (size_t i = 0; i < N_DEVICE_FUNCTIONS; i++)
        if (!strcmp(name, device_functions[i].name)) return device_functions[i].fn;
    return next;
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *name) {
    PFN_vkVoidFunction own = instance_plumbing(name);
    if (own) return own;
    if (!strcmp(name, "vkEnumerateDeviceExtensionProperties")) return (PFN_vkVoidFunction)EnumerateDeviceExtensionProperties;
    PFN_vkGetInstanceProcAddr gipa = next_gipa(instance);
    PFN_vkVoidFunction next = gipa ? gipa(instance, name) : NULL;
    if (!next) return NULL;
    for (size_t i = 0; i < N_PHYSICAL_FUNCTIONS; i++)
        if (!strcmp(name, physical_functions[i].name)) return physical_functions[i].fn;
    return next; /* device commands: the loader reaches this layer's through vkGetDeviceProcAddr, which knows the device */
}
