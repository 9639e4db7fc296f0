/* File-system view of the virtual board (see fsview.c). Functions return -2
 * (or NULL / (FILE*)-1 conventions noted) when the path is not ours. */
#ifndef CAMGW_FSVIEW_H
#define CAMGW_FSVIEW_H

#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

struct vfile;
FILE* fs_fopen(const char* path, const char* mode); /* NULL: not ours; (FILE*)-1: error */
int fs_open_sysfs(const char* path, int flags);
int fs_stat_path(const char* path, struct stat* st);
int fs_stat_vfile(const struct vfile* f, struct stat* st);
int fs_access(const char* path);
DIR* fs_opendir(const char* path);
struct dirent* fs_readdir(DIR* d, int* handled);
struct dirent64* fs_readdir64(DIR* d, int* handled);
void fs_closedir(DIR* d);
ssize_t fs_readlink(const char* path);

#endif
