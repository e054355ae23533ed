/* VK_LAYER_VKMAP_buggy: a Vulkan layer that breaks the memory-mapping entry points on purpose.
 *
 * A self-test double for the suite's standalone reproducers: it sits between the loader and a
 * correct driver (lavapipe) and injects one bug, so the self-tests can check that the suite
 * catches each bug and that each reproducer it generates exits 1 with the layer and 0 without it.
 * Never meant for anything else.  Built and enabled by buggy_layer.py.
 *
 * The bug is chosen at run time by VKMAP_BUGGY_LAYER_BUG; it applies to vkMapMemory,
 * vkMapMemory2KHR and vkMapMemory2 (and their unmaps) alike:
 *   misaligned      every map returns a pointer with (ptr - offset) % 64 == 8: a shadow copy of the
 *                   mapped bytes, copied back into the driver's mapping before the unmap (and before
 *                   each vkQueueSubmit, and back out after each wait, so the device sees the same
 *                   bytes).  Only the alignment is wrong.
 *   ignored-offset  a map with offset > 0 maps from offset 0 instead and returns that pointer.
 *   lost-bytes      each unmap first zeroes the whole mapped range.
 *   crash           a map with offset > 0 dies of SIGSEGV inside the call, as a driver bug would.
 *   hang            a map with offset > 0 never returns.
 *   anything else   pass-through.
 * Placed maps (VK_EXT_map_memory_placed) are never moved or shifted: only lost-bytes touches them.
 */
#include <pthread.h>
#include <unistd.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vk_layer.h>
#include <vulkan/vulkan.h>

#ifndef VK_KHR_map_memory2 /* headers older than 1.3.246 */
typedef VkFlags VkMemoryUnmapFlagsKHR;
typedef struct VkMemoryMapInfoKHR {
    VkStructureType sType;
    const void *pNext;
    VkMemoryMapFlags flags;
    VkDeviceMemory memory;
    VkDeviceSize offset;
    VkDeviceSize size;
} VkMemoryMapInfoKHR;
typedef struct VkMemoryUnmapInfoKHR {
    VkStructureType sType;
    const void *pNext;
    VkMemoryUnmapFlagsKHR flags;
    VkDeviceMemory memory;
} VkMemoryUnmapInfoKHR;
#endif
typedef VkResult(VKAPI_PTR *map2_fn)(VkDevice, const VkMemoryMapInfoKHR *, void **); /* vkMapMemory2 has the same signature */
typedef VkResult(VKAPI_PTR *unmap2_fn)(VkDevice, const VkMemoryUnmapInfoKHR *);

#define EXPORT __attribute__((visibility("default")))
#define PLACED_BIT 0x1u /* VK_MEMORY_MAP_PLACED_BIT_EXT */
#define SKEW 8u         /* misaligned: (ptr - offset) % 64 */
#define MAX_OBJECTS 64  /* live instances, live devices */

enum bug { NONE, MISALIGNED, IGNORED_OFFSET, LOST_BYTES, CRASH, HANG };
enum entry { LEGACY, KHR, CORE }; /* vkMapMemory, vkMapMemory2KHR, vkMapMemory2 (and their unmaps) */

struct instance {
    void *key; /* dispatch key: the instance's, and its physical devices' */
    VkInstance handle;
    PFN_vkGetInstanceProcAddr gipa;
    PFN_vkDestroyInstance destroy;
};

struct device { /* the next layer's entry points; key is also its queues' dispatch key */
    void *key;
    VkDevice handle;
    PFN_vkGetDeviceProcAddr gdpa;
    PFN_vkDestroyDevice destroy;
    PFN_vkAllocateMemory allocate;
    PFN_vkFreeMemory free;
    PFN_vkMapMemory map;
    PFN_vkUnmapMemory unmap;
    map2_fn map2[3]; /* indexed by enum entry; [LEGACY] unused; NULL where the next layer has none */
    unmap2_fn unmap2[3];
    PFN_vkQueueSubmit submit;
    PFN_vkQueueWaitIdle queue_wait;
    PFN_vkDeviceWaitIdle device_wait;
    PFN_vkWaitForFences fence_wait;
};

struct memory { /* one VkDeviceMemory: its size, and its current mapping */
    struct memory *next;
    VkDevice device;
    VkDeviceMemory handle;
    VkDeviceSize allocation_size;
    void *driver_ptr;      /* the driver's pointer to the mapped range, NULL when not mapped */
    VkDeviceSize size;     /* bytes mapped from driver_ptr */
    unsigned char *shadow; /* misaligned: our copy, handed out at shadow + skew */
    size_t skew;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct instance instances[MAX_OBJECTS];
static struct device devices[MAX_OBJECTS];
static struct memory *memories;

static void *key(const void *handle) { return *(void *const *)handle; }

static enum bug bug(void) {
    const char *b = getenv("VKMAP_BUGGY_LAYER_BUG");
    if (!b) return NONE;
    return !strcmp(b, "misaligned")       ? MISALIGNED
           : !strcmp(b, "ignored-offset") ? IGNORED_OFFSET
           : !strcmp(b, "lost-bytes")     ? LOST_BYTES
           : !strcmp(b, "crash")          ? CRASH
           : !strcmp(b, "hang")           ? HANG
                                          : NONE;
}

static struct instance *find_instance(void *k) { /* caller holds the lock; k NULL: a free slot */
    for (int i = 0; i < MAX_OBJECTS; i++)
        if (instances[i].key == k) return &instances[i];
    return NULL;
}

static struct device *find_device(void *k) { /* caller holds the lock; k NULL: a free slot */
    for (int i = 0; i < MAX_OBJECTS; i++)
        if (devices[i].key == k) return &devices[i];
    return NULL;
}

static struct device *device_of(const void *device_or_queue) { /* the slot stays put until vkDestroyDevice */
    pthread_mutex_lock(&lock);
    struct device *d = find_device(key(device_or_queue));
    pthread_mutex_unlock(&lock);
    return d;
}

static struct memory **find_memory(VkDeviceMemory handle) { /* caller holds the lock */
    struct memory **m = &memories;
    while (*m && (*m)->handle != handle) m = &(*m)->next;
    return m;
}

static void drop(struct memory **m) { /* caller holds the lock */
    struct memory *dead = *m;
    *m = dead->next;
    free(dead->shadow);
    free(dead);
}

/* ---- layer plumbing ---- */

static VkResult VKAPI_CALL CreateInstance(const VkInstanceCreateInfo *info, const VkAllocationCallbacks *allocator, VkInstance *instance) {
    VkLayerInstanceCreateInfo *chain = (VkLayerInstanceCreateInfo *)info->pNext;
    while (chain && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_INSTANCE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO))
        chain = (VkLayerInstanceCreateInfo *)chain->pNext;
    if (!chain) return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr gipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    chain->u.pLayerInfo = chain->u.pLayerInfo->pNext; /* the next layer's link */
    VkResult r = ((PFN_vkCreateInstance)gipa(VK_NULL_HANDLE, "vkCreateInstance"))(info, allocator, instance);
    if (r != VK_SUCCESS) return r;
    struct instance next = {key(*instance), *instance, gipa, (PFN_vkDestroyInstance)gipa(*instance, "vkDestroyInstance")};
    pthread_mutex_lock(&lock);
    struct instance *slot = find_instance(NULL);
    if (slot) *slot = next;
    pthread_mutex_unlock(&lock);
    if (!slot) next.destroy(*instance, allocator); /* more live instances than this double keeps */
    return slot ? VK_SUCCESS : VK_ERROR_INITIALIZATION_FAILED;
}

static void VKAPI_CALL DestroyInstance(VkInstance instance, const VkAllocationCallbacks *allocator) {
    if (!instance) return;
    pthread_mutex_lock(&lock);
    struct instance *in = find_instance(key(instance));
    PFN_vkDestroyInstance destroy = in ? in->destroy : NULL;
    if (in) in->key = NULL;
    pthread_mutex_unlock(&lock);
    if (destroy) destroy(instance, allocator);
}

static VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice physical, const VkDeviceCreateInfo *info, const VkAllocationCallbacks *allocator, VkDevice *device) {
    VkLayerDeviceCreateInfo *chain = (VkLayerDeviceCreateInfo *)info->pNext;
    while (chain && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO))
        chain = (VkLayerDeviceCreateInfo *)chain->pNext;
    if (!chain) return VK_ERROR_INITIALIZATION_FAILED;
    PFN_vkGetInstanceProcAddr gipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    PFN_vkGetDeviceProcAddr gdpa = chain->u.pLayerInfo->pfnNextGetDeviceProcAddr;
    chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;
    pthread_mutex_lock(&lock);
    struct instance *in = find_instance(key(physical));
    VkInstance instance = in ? in->handle : VK_NULL_HANDLE;
    pthread_mutex_unlock(&lock);
    PFN_vkCreateDevice create = (PFN_vkCreateDevice)gipa(instance, "vkCreateDevice");
    VkResult r = create ? create(physical, info, allocator, device) : VK_ERROR_INITIALIZATION_FAILED;
    if (r != VK_SUCCESS) return r;
    VkDevice d = *device;
    struct device next = {
        .key = key(d),
        .handle = d,
        .gdpa = gdpa,
        .destroy = (PFN_vkDestroyDevice)gdpa(d, "vkDestroyDevice"),
        .allocate = (PFN_vkAllocateMemory)gdpa(d, "vkAllocateMemory"),
        .free = (PFN_vkFreeMemory)gdpa(d, "vkFreeMemory"),
        .map = (PFN_vkMapMemory)gdpa(d, "vkMapMemory"),
        .unmap = (PFN_vkUnmapMemory)gdpa(d, "vkUnmapMemory"),
        .map2 = {NULL, (map2_fn)gdpa(d, "vkMapMemory2KHR"), (map2_fn)gdpa(d, "vkMapMemory2")},
        .unmap2 = {NULL, (unmap2_fn)gdpa(d, "vkUnmapMemory2KHR"), (unmap2_fn)gdpa(d, "vkUnmapMemory2")},
        .submit = (PFN_vkQueueSubmit)gdpa(d, "vkQueueSubmit"),
        .queue_wait = (PFN_vkQueueWaitIdle)gdpa(d, "vkQueueWaitIdle"),
        .device_wait = (PFN_vkDeviceWaitIdle)gdpa(d, "vkDeviceWaitIdle"),
        .fence_wait = (PFN_vkWaitForFences)gdpa(d, "vkWaitForFences"),
    };
    pthread_mutex_lock(&lock);
    struct device *slot = find_device(NULL);
    if (slot) *slot = next;
    pthread_mutex_unlock(&lock);
    if (!slot) next.destroy(d, allocator); /* more live devices than this double keeps */
    return slot ? VK_SUCCESS : VK_ERROR_INITIALIZATION_FAILED;
}

static void VKAPI_CALL DestroyDevice(VkDevice device, const VkAllocationCallbacks *allocator) {
    if (!device) return;
    pthread_mutex_lock(&lock);
    struct device *d = find_device(key(device));
    PFN_vkDestroyDevice destroy = d ? d->destroy : NULL;
    for (struct memory **m = &memories; *m;)
        if ((*m)->device == device) drop(m);
        else m = &(*m)->next;
    if (d) d->key = NULL;
    pthread_mutex_unlock(&lock);
    if (destroy) destroy(device, allocator);
}

/* ---- the memory entry points ---- */

static VkResult VKAPI_CALL AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *info, const VkAllocationCallbacks *allocator, VkDeviceMemory *memory) {
    VkResult r = device_of(device)->allocate(device, info, allocator, memory);
    struct memory *m = r == VK_SUCCESS ? calloc(1, sizeof *m) : NULL;
    if (!m) return r; /* without an entry, maps of this memory pass through */
    pthread_mutex_lock(&lock);
    struct memory **old = find_memory(*memory);
    if (*old) drop(old); /* a handle the driver reused */
    *m = (struct memory){.next = memories, .device = device, .handle = *memory, .allocation_size = info->allocationSize};
    memories = m;
    pthread_mutex_unlock(&lock);
    return r;
}

static void VKAPI_CALL FreeMemory(VkDevice device, VkDeviceMemory memory, const VkAllocationCallbacks *allocator) {
    pthread_mutex_lock(&lock);
    struct memory **m = find_memory(memory);
    if (memory && *m) drop(m); /* freeing unmaps implicitly: the shadow goes with it */
    pthread_mutex_unlock(&lock);
    device_of(device)->free(device, memory, allocator);
}

static VkResult map(VkDevice device, enum entry e, const VkMemoryMapInfoKHR *asked, void **ppData) {
    struct device *d = device_of(device);
    VkMemoryMapInfoKHR info = *asked;
    enum bug b = bug();
    int placed = (asked->flags & PLACED_BIT) != 0;
    if (b == CRASH && asked->offset > 0) raise(SIGSEGV);
    while (b == HANG && asked->offset > 0) pause();
    if (b == IGNORED_OFFSET && !placed && asked->offset > 0) {
        info.offset = 0;
        info.size = asked->size == VK_WHOLE_SIZE ? VK_WHOLE_SIZE : asked->offset + asked->size;
    }
    VkResult r = e == LEGACY ? d->map(device, info.memory, info.offset, info.size, info.flags, ppData) : d->map2[e](device, &info, ppData);
    if (r != VK_SUCCESS || *ppData == (void *)-1) return r; /* lavapipe under RLIMIT_AS: VK_SUCCESS and MAP_FAILED; never touch it */
    pthread_mutex_lock(&lock);
    struct memory *m = *find_memory(info.memory);
    if (m && info.offset <= m->allocation_size) {
        m->driver_ptr = *ppData;
        m->size = info.size == VK_WHOLE_SIZE ? m->allocation_size - info.offset : info.size;
        m->skew = (SKEW + info.offset) % 64; /* (shadow + skew - offset) % 64 == SKEW, shadow being 64-aligned */
        if (b == MISALIGNED && !placed && (m->shadow = aligned_alloc(64, (m->size + 128) & ~(VkDeviceSize)63))) {
            memcpy(m->shadow + m->skew, m->driver_ptr, m->size);
            *ppData = m->shadow + m->skew;
        }
    }
    pthread_mutex_unlock(&lock);
    return VK_SUCCESS;
}

static void before_unmap(VkDeviceMemory memory) {
    pthread_mutex_lock(&lock);
    struct memory *m = *find_memory(memory);
    if (m && m->driver_ptr) {
        if (m->shadow)
            memcpy(m->driver_ptr, m->shadow + m->skew, m->size);
        else if (bug() == LOST_BYTES)
            memset(m->driver_ptr, 0, m->size);
    }
    pthread_mutex_unlock(&lock);
}

static void after_unmap(VkDeviceMemory memory) {
    pthread_mutex_lock(&lock);
    struct memory *m = *find_memory(memory);
    if (m) {
        free(m->shadow);
        m->shadow = NULL, m->driver_ptr = NULL;
    }
    pthread_mutex_unlock(&lock);
}

static VkResult VKAPI_CALL MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size, VkMemoryMapFlags flags, void **ppData) {
    VkMemoryMapInfoKHR info = {.flags = flags, .memory = memory, .offset = offset, .size = size};
    return map(device, LEGACY, &info, ppData);
}
static VkResult VKAPI_CALL MapMemory2KHR(VkDevice device, const VkMemoryMapInfoKHR *info, void **ppData) { return map(device, KHR, info, ppData); }
static VkResult VKAPI_CALL MapMemory2(VkDevice device, const VkMemoryMapInfoKHR *info, void **ppData) { return map(device, CORE, info, ppData); }

static void VKAPI_CALL UnmapMemory(VkDevice device, VkDeviceMemory memory) {
    before_unmap(memory);
    device_of(device)->unmap(device, memory);
    after_unmap(memory);
}

static VkResult unmap2(VkDevice device, enum entry e, const VkMemoryUnmapInfoKHR *info) {
    before_unmap(info->memory);
    VkResult r = device_of(device)->unmap2[e](device, info);
    if (r == VK_SUCCESS) after_unmap(info->memory); /* a failed unmap leaves the memory mapped */
    return r;
}
static VkResult VKAPI_CALL UnmapMemory2KHR(VkDevice device, const VkMemoryUnmapInfoKHR *info) { return unmap2(device, KHR, info); }
static VkResult VKAPI_CALL UnmapMemory2(VkDevice device, const VkMemoryUnmapInfoKHR *info) { return unmap2(device, CORE, info); }

/* ---- misaligned: the device reads and writes the driver's mapping, so the shadows follow it ---- */

static void sync_shadows(VkDevice device, int to_driver) {
    pthread_mutex_lock(&lock);
    for (struct memory *m = memories; m; m = m->next)
        if (m->shadow && m->device == device)
            to_driver ? memcpy(m->driver_ptr, m->shadow + m->skew, m->size) : memcpy(m->shadow + m->skew, m->driver_ptr, m->size);
    pthread_mutex_unlock(&lock);
}

static VkResult VKAPI_CALL QueueSubmit(VkQueue queue, uint32_t count, const VkSubmitInfo *submits, VkFence fence) {
    struct device *d = device_of(queue);
    sync_shadows(d->handle, 1);
    return d->submit(queue, count, submits, fence);
}

static VkResult VKAPI_CALL QueueWaitIdle(VkQueue queue) {
    struct device *d = device_of(queue);
    VkResult r = d->queue_wait(queue);
    sync_shadows(d->handle, 0);
    return r;
}

static VkResult VKAPI_CALL DeviceWaitIdle(VkDevice device) {
    VkResult r = device_of(device)->device_wait(device);
    sync_shadows(device, 0);
    return r;
}

static VkResult VKAPI_CALL WaitForFences(VkDevice device, uint32_t count, const VkFence *fences, VkBool32 all, uint64_t timeout) {
    VkResult r = device_of(device)->fence_wait(device, count, fences, all, timeout);
    if (r == VK_SUCCESS) sync_shadows(device, 0);
    return r;
}

/* ---- name lookup ---- */

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name);

static const struct {
    const char *name;
    PFN_vkVoidFunction fn;
    enum entry map2, unmap2; /* KHR or CORE: offered only where the next layer has that map2 entry point */
} device_functions[] = {
    {"vkGetDeviceProcAddr", (PFN_vkVoidFunction)vkGetDeviceProcAddr, LEGACY, LEGACY},
    {"vkDestroyDevice", (PFN_vkVoidFunction)DestroyDevice, LEGACY, LEGACY},
    {"vkAllocateMemory", (PFN_vkVoidFunction)AllocateMemory, LEGACY, LEGACY},
    {"vkFreeMemory", (PFN_vkVoidFunction)FreeMemory, LEGACY, LEGACY},
    {"vkMapMemory", (PFN_vkVoidFunction)MapMemory, LEGACY, LEGACY},
    {"vkUnmapMemory", (PFN_vkVoidFunction)UnmapMemory, LEGACY, LEGACY},
    {"vkQueueSubmit", (PFN_vkVoidFunction)QueueSubmit, LEGACY, LEGACY},
    {"vkQueueWaitIdle", (PFN_vkVoidFunction)QueueWaitIdle, LEGACY, LEGACY},
    {"vkDeviceWaitIdle", (PFN_vkVoidFunction)DeviceWaitIdle, LEGACY, LEGACY},
    {"vkWaitForFences", (PFN_vkVoidFunction)WaitForFences, LEGACY, LEGACY},
    {"vkMapMemory2KHR", (PFN_vkVoidFunction)MapMemory2KHR, KHR, LEGACY},
    {"vkUnmapMemory2KHR", (PFN_vkVoidFunction)UnmapMemory2KHR, LEGACY, KHR},
    {"vkMapMemory2", (PFN_vkVoidFunction)MapMemory2, CORE, LEGACY},
    {"vkUnmapMemory2", (PFN_vkVoidFunction)UnmapMemory2, LEGACY, CORE},
};
#define N_DEVICE_FUNCTIONS (sizeof device_functions / sizeof *device_functions)

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name) {
    struct device *d = device ? device_of(device) : NULL;
    if (!d) return NULL;
    for (size_t i = 0; i < N_DEVICE_FUNCTIONS; i++) {
        if (strcmp(name, device_functions[i].name)) continue;
        if (device_functions[i].map2 && !d->map2[device_functions[i].map2]) return NULL;
        if (device_functions[i].unmap2 && !d->unmap2[device_functions[i].unmap2]) return NULL;
        return device_functions[i].fn;
    }
    return d->gdpa(device, name);
}

EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *name) {
    if (!strcmp(name, "vkGetInstanceProcAddr")) return (PFN_vkVoidFunction)vkGetInstanceProcAddr;
    if (!strcmp(name, "vkCreateInstance")) return (PFN_vkVoidFunction)CreateInstance;
    if (!strcmp(name, "vkDestroyInstance")) return (PFN_vkVoidFunction)DestroyInstance;
    if (!strcmp(name, "vkCreateDevice")) return (PFN_vkVoidFunction)CreateDevice;
    for (size_t i = 0; i < N_DEVICE_FUNCTIONS; i++) /* the map2 names only through vkGetDeviceProcAddr: it knows the device */
        if (!device_functions[i].map2 && !device_functions[i].unmap2 && !strcmp(name, device_functions[i].name)) return device_functions[i].fn;
    if (!instance) return NULL;
    pthread_mutex_lock(&lock);
    struct instance *in = find_instance(key(instance));
    PFN_vkGetInstanceProcAddr next = in ? in->gipa : NULL;
    pthread_mutex_unlock(&lock);
    return next ? next(instance, name) : NULL;
}
