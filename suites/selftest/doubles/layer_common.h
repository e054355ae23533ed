/* What the two Vulkan layers among the self-test doubles share: included by buggy_layer.c
 * (VK_LAYER_VKMAP_buggy) and noncoherent_layer.c (VK_LAYER_VKMAP_noncoherent).
 *
 * It holds the map2 declarations older Vulkan headers lack; the tables of live instances, devices and
 * memories, under one lock; the loader plumbing (vkCreateInstance, vkDestroyInstance and vkDestroyDevice
 * whole, the chain walk and bookkeeping of vkCreateDevice, the next layer's vkGetInstanceProcAddr);
 * vkFreeMemory; and the map and unmap entry points, which hand over to the layer's map() and unmap().
 *
 * Before including it, a layer defines the members of its own (possibly none) that the tables carry:
 *   LAYER_INSTANCE_FIELDS  in struct instance
 *   LAYER_DEVICE_FIELDS    in struct device
 *   LAYER_MEMORY_FIELDS    in struct memory
 * and after it, what this file calls:
 *   instance_created(next, info)  fills in the layer's members of a new instance
 *   CreateDevice                  its vkCreateDevice, through next_create_device() and keep_device()
 *   release(m)                    frees a memory entry already out of the list
 *   map(), unmap()                what a map or unmap entry point does
 *   vkGetInstanceProcAddr, vkGetDeviceProcAddr
 */
#ifndef LAYER_COMMON_H
#define LAYER_COMMON_H

#include <pthread.h>
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
#define MAX_OBJECTS 64  /* live instances, live devices */

enum entry { LEGACY, KHR, CORE }; /* vkMapMemory, vkMapMemory2KHR, vkMapMemory2 (and their unmaps) */

struct instance {
    void *key; /* dispatch key: the instance's, and its physical devices' */
    VkInstance handle;
    PFN_vkGetInstanceProcAddr gipa;
    PFN_vkDestroyInstance destroy;
    LAYER_INSTANCE_FIELDS
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
    LAYER_DEVICE_FIELDS
};

struct memory { /* one VkDeviceMemory the layer keeps an entry for */
    struct memory *next;
    VkDevice device;
    VkDeviceMemory handle;
    VkDeviceSize allocation_size;
    LAYER_MEMORY_FIELDS
};

/* Defined by the layer. */
static void instance_created(struct instance *next, const VkInstanceCreateInfo *info);
static VkResult VKAPI_CALL CreateDevice(VkPhysicalDevice physical, const VkDeviceCreateInfo *info, const VkAllocationCallbacks *allocator, VkDevice *device);
static void release(struct memory *m);
static VkResult map(VkDevice device, enum entry e, const VkMemoryMapInfoKHR *info, void **ppData);
static VkResult unmap(VkDevice device, enum entry e, const VkMemoryUnmapInfoKHR *info);
EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetInstanceProcAddr(VkInstance instance, const char *name);
EXPORT VKAPI_ATTR PFN_vkVoidFunction VKAPI_CALL vkGetDeviceProcAddr(VkDevice device, const char *name);

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct instance instances[MAX_OBJECTS];
static struct device devices[MAX_OBJECTS];
static struct memory *memories;

static void *key(const void *handle) { return *(void *const *)handle; }

static struct instance *find_instance(void *k) { /* caller holds the lock; k NULL: a free slot */
    for (int i = 0; i < MAX_OBJECTS; i++)
        if (instances[i].key == k) return &instances[i];
    return NULL;
}

static struct instance *instance_of(const void *instance_or_physical) { /* the slot stays put until vkDestroyInstance */
    pthread_mutex_lock(&lock);
    struct instance *in = find_instance(key(instance_or_physical));
    pthread_mutex_unlock(&lock);
    return in;
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
    release(dead);
}

static void keep_memory(struct memory *m) { /* a new entry, first in the list */
    pthread_mutex_lock(&lock);
    struct memory **old = find_memory(m->handle);
    if (*old) drop(old); /* a handle the driver reused */
    m->next = memories;
    memories = m;
    pthread_mutex_unlock(&lock);
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
    VkInstance i = *instance;
    struct instance next = {.key = key(i), .handle = i, .gipa = gipa, .destroy = (PFN_vkDestroyInstance)gipa(i, "vkDestroyInstance")};
    instance_created(&next, info);
    pthread_mutex_lock(&lock);
    struct instance *slot = find_instance(NULL);
    if (slot) *slot = next;
    pthread_mutex_unlock(&lock);
    if (!slot) next.destroy(i, allocator); /* more live instances than this double keeps */
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

/* For the layer's CreateDevice: the next layer's vkCreateDevice for `physical`, and in *gdpa its
 * vkGetDeviceProcAddr, from the loader's link in the chain of `info`, which then points past it for the
 * next layer.  NULL where the chain has no link, or the next layer no vkCreateDevice. */
static PFN_vkCreateDevice next_create_device(VkPhysicalDevice physical, const VkDeviceCreateInfo *info, PFN_vkGetDeviceProcAddr *gdpa) {
    VkLayerDeviceCreateInfo *chain = (VkLayerDeviceCreateInfo *)info->pNext;
    while (chain && !(chain->sType == VK_STRUCTURE_TYPE_LOADER_DEVICE_CREATE_INFO && chain->function == VK_LAYER_LINK_INFO))
        chain = (VkLayerDeviceCreateInfo *)chain->pNext;
    *gdpa = NULL;
    if (!chain) return NULL;
    PFN_vkGetInstanceProcAddr gipa = chain->u.pLayerInfo->pfnNextGetInstanceProcAddr;
    *gdpa = chain->u.pLayerInfo->pfnNextGetDeviceProcAddr;
    chain->u.pLayerInfo = chain->u.pLayerInfo->pNext;
    struct instance *in = instance_of(physical);
    return (PFN_vkCreateDevice)gipa(in ? in->handle : VK_NULL_HANDLE, "vkCreateDevice");
}

/* For the layer's CreateDevice, once the next layer has made `d`: `next`, the layer's members filled in,
 * gets the next layer's entry points above and a slot (where none is free, `d` is destroyed). */
static VkResult keep_device(struct device *next, VkDevice d, PFN_vkGetDeviceProcAddr gdpa, const VkAllocationCallbacks *allocator) {
    next->key = key(d);
    next->handle = d;
    next->gdpa = gdpa;
    next->destroy = (PFN_vkDestroyDevice)gdpa(d, "vkDestroyDevice");
    next->allocate = (PFN_vkAllocateMemory)gdpa(d, "vkAllocateMemory");
    next->free = (PFN_vkFreeMemory)gdpa(d, "vkFreeMemory");
    next->map = (PFN_vkMapMemory)gdpa(d, "vkMapMemory");
    next->unmap = (PFN_vkUnmapMemory)gdpa(d, "vkUnmapMemory");
    next->map2[LEGACY] = NULL, next->map2[KHR] = (map2_fn)gdpa(d, "vkMapMemory2KHR"), next->map2[CORE] = (map2_fn)gdpa(d, "vkMapMemory2");
    next->unmap2[LEGACY] = NULL, next->unmap2[KHR] = (unmap2_fn)gdpa(d, "vkUnmapMemory2KHR"), next->unmap2[CORE] = (unmap2_fn)gdpa(d, "vkUnmapMemory2");
    pthread_mutex_lock(&lock);
    struct device *slot = find_device(NULL);
    if (slot) *slot = *next;
    pthread_mutex_unlock(&lock);
    if (!slot) next->destroy(d, allocator); /* more live devices than this double keeps */
    return slot ? VK_SUCCESS : VK_ERROR_INITIALIZATION_FAILED;
}

static void VKAPI_CALL FreeMemory(VkDevice device, VkDeviceMemory memory, const VkAllocationCallbacks *allocator) {
    pthread_mutex_lock(&lock);
    struct memory **m = find_memory(memory);
    struct memory *dead = memory ? *m : NULL;
    if (dead) *m = dead->next;
    pthread_mutex_unlock(&lock);
    if (dead) release(dead);
    device_of(device)->free(device, memory, allocator);
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

/* ---- the map entry points, told apart by enum entry ---- */

static VkResult VKAPI_CALL MapMemory(VkDevice device, VkDeviceMemory memory, VkDeviceSize offset, VkDeviceSize size, VkMemoryMapFlags flags, void **ppData) {
    VkMemoryMapInfoKHR info = {.sType = (VkStructureType)1000271000 /* VK_STRUCTURE_TYPE_MEMORY_MAP_INFO_KHR */, .flags = flags, .memory = memory, .offset = offset, .size = size};
    return map(device, LEGACY, &info, ppData);
}
static VkResult VKAPI_CALL MapMemory2KHR(VkDevice device, const VkMemoryMapInfoKHR *info, void **ppData) { return map(device, KHR, info, ppData); }
static VkResult VKAPI_CALL MapMemory2(VkDevice device, const VkMemoryMapInfoKHR *info, void **ppData) { return map(device, CORE, info, ppData); }

static void VKAPI_CALL UnmapMemory(VkDevice device, VkDeviceMemory memory) {
    VkMemoryUnmapInfoKHR info = {.sType = (VkStructureType)1000271001 /* VK_STRUCTURE_TYPE_MEMORY_UNMAP_INFO_KHR */, .memory = memory};
    unmap(device, LEGACY, &info);
}
static VkResult VKAPI_CALL UnmapMemory2KHR(VkDevice device, const VkMemoryUnmapInfoKHR *info) { return unmap(device, KHR, info); }
static VkResult VKAPI_CALL UnmapMemory2(VkDevice device, const VkMemoryUnmapInfoKHR *info) { return unmap(device, CORE, info); }

/* ---- name lookup ---- */

static PFN_vkVoidFunction instance_plumbing(const char *name) { /* for vkGetInstanceProcAddr; NULL: not one of these */
    if (!strcmp(name, "vkGetInstanceProcAddr")) return (PFN_vkVoidFunction)vkGetInstanceProcAddr;
    if (!strcmp(name, "vkCreateInstance")) return (PFN_vkVoidFunction)CreateInstance;
    if (!strcmp(name, "vkDestroyInstance")) return (PFN_vkVoidFunction)DestroyInstance;
    if (!strcmp(name, "vkCreateDevice")) return (PFN_vkVoidFunction)CreateDevice;
    return NULL;
}

static PFN_vkGetInstanceProcAddr next_gipa(VkInstance instance) { /* NULL where `instance` is none of the layer's */
    if (!instance) return NULL;
    pthread_mutex_lock(&lock);
    struct instance *in = find_instance(key(instance));
    PFN_vkGetInstanceProcAddr gipa = in ? in->gipa : NULL;
    pthread_mutex_unlock(&lock);
    return gipa;
}

#endif
