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
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The members of this layer's own in the tables of layer_common.h. */
#define LAYER_INSTANCE_FIELDS /* none */
#define LAYER_DEVICE_FIELDS           \
    PFN_vkQueueSubmit submit;         \
    PFN_vkQueueWaitIdle queue_wait;   \
    PFN_vkDeviceWaitIdle device_wait; \
    PFN_vkWaitForFences fence_wait;
#define LAYER_MEMORY_FIELDS /* its current mapping */                                           \
    void *driver_ptr;      /* the driver's pointer to the mapped range, NULL when not mapped */ \
    VkDeviceSize size;     /* bytes mapped from driver_ptr */                                   \
    unsigned char *shadow; /* misaligned: our copy, handed out at shadow + skew */              \
    size_t skew;
#include "layer_common.h"

#define SKEW 8u /* misaligned: (ptr - offset) % 64 */

enum bug { NONE, MISALIGNED, IGNORED_OFFSET, LOST_BYTES, CRASH, HANG };

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

static void release(struct memory *m) { /* the entry is out of the list; vkFreeMemory unmaps implicitly: the shadow goes with it */
    free(m->shadow);
    free(m);
}

/* ---- layer plumbing ---- */

static void instance_created(struct instance *next, const VkInstanceCreateInfo *info) { (void)next, (void)info; }

static VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice physical, const VkDeviceCreateInfo *info, const VkAllocationCallbacks *allocator, VkDevice *device) {
    PFN_vkGetDeviceProcAddr gdpa;
    PFN_vkCreateDevice create = next_create_device(physical, info, &gdpa);
    VkResult r = create ? create(physical, info, allocator, device) : VK_ERROR_INITIALIZATION_FAILED;
    if (r != VK_SUCCESS) return r;
    VkDevice d = *device;
    struct device next = {
        .submit = (PFN_vkQueueSubmit)gdpa(d, "vkQueueSubmit"),
        .queue_wait = (PFN_vkQueueWaitIdle)gdpa(d, "vkQueueWaitIdle"),
        .device_wait = (PFN_vkDeviceWaitIdle)gdpa(d, "vkDeviceWaitIdle"),
        .fence_wait = (PFN_vkWaitForFences)gdpa(d, "vkWaitForFences"),
    };
    return keep_device(&next, d, gdpa, allocator);
}

/* ---- the memory entry points ---- */

static VkResult VKAPI_CALL AllocateMemory(VkDevice device, const VkMemoryAllocateInfo *info, const VkAllocationCallbacks *allocator, VkDeviceMemory *memory) {
    VkResult r = device_of(device)->allocate(device, info, allocator, memory);
    struct memory *m = r == VK_SUCCESS ? calloc(1, sizeof *m) : NULL;
    if (!m) return r; /* without an entry, maps of this memory pass through */
    *m = (struct memory){.device = device, .handle = *memory, .allocation_size = info->allocationSize};
    keep_memory(m);
    return r;
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

static VkResult unmap(VkDevice device, enum entry e, const VkMemoryUnmapInfoKHR *info) {
    before_unmap(info->memory);
    struct device *d = device_of(device);
    VkResult r = VK_SUCCESS;
    if (e == LEGACY)
        d->unmap(device, info->memory);
    else
        r = d->unmap2[e](device, info);
    if (r == VK_SUCCESS) after_unmap(info->memory); /* a failed unmap leaves the memory mapped */
    return r;
}

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
    PFN_vkVoidFunction own = instance_plumbing(name);
    if (own) return own;
    for (size_t i = 0; i < N_DEVICE_FUNCTIONS; i++) /* the map2 names only through vkGetDeviceProcAddr: it knows the device */
        if (!device_functions[i].map2 && !device_functions[i].unmap2 && !strcmp(name, device_functions[i].name)) return device_functions[i].fn;
    PFN_vkGetInstanceProcAddr next = next_gipa(instance);
    return next ? next(instance, name) : NULL;
}
