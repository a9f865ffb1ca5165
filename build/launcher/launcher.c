/*
 * The single executable's launcher on Linux and macOS (build/build-binary appends the program to it).
 *
 * Layout of build/out/counterfoil: this launcher, then the Nuitka standalone folder as an xz-compressed
 * tar, then a trailer of TRAILER_SIZE bytes:
 *     "COUNTERFOIL-PAYLOAD <payload bytes> <build id>\n" padded with spaces.
 * The build id is a hash of the payload, so a new build never starts an older unpacked copy.
 *
 * Why not Nuitka's own onefile: its cached mode checks the CRC32 of every unpacked file at every start
 * (about 200 MB read; more than a second from a cold page cache). Here a start is one stat() of the unpacked
 * program, then exec: only the pages the program uses are read. The first start of a build unpacks it into
 * a temporary folder beside its final place and renames it there, so a folder under its final name is
 * always complete (two first starts at once: one rename wins, the other folder is removed).
 *
 * Unpacking runs `tar -xJf -` (GNU tar with xz on Linux, bsdtar on macOS): no decompressor is written here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __APPLE__
#include <mach-o/dyld.h>
#endif

#define TRAILER_SIZE 128
#define TRAILER_MAGIC "COUNTERFOIL-PAYLOAD "
#define PROGRAM_NAME "counterfoil"

static void fail(const char *what, const char *detail) {
    int error = errno;
    fprintf(stderr, "counterfoil: %s%s%s", what, detail ? ": " : "", detail ? detail : "");
    if (error) fprintf(stderr, " (%s)", strerror(error));
    fputc('\n', stderr);
    exit(70);
}

/* out = a + b, refused when it does not fit. */
static void join(char *out, size_t size, const char *a, const char *b) {
    int n = snprintf(out, size, "%s%s", a, b);
    if (n < 0 || (size_t)n >= size) { errno = 0; fail("path too long", a); }
}

static void own_path(char *path, size_t size) {
#ifdef __APPLE__
    char raw[PATH_MAX];
    uint32_t raw_size = sizeof raw;
    if (_NSGetExecutablePath(raw, &raw_size) != 0 || realpath(raw, path) == NULL) fail("cannot find itself", NULL);
    (void)size;
#else
    ssize_t n = readlink("/proc/self/exe", path, size - 1);
    if (n <= 0) fail("cannot find itself", "/proc/self/exe");
    path[n] = 0;
#endif
}

/* ~/.cache/Counterfoil on Linux (or $XDG_CACHE_HOME/Counterfoil), ~/Library/Caches/Counterfoil on macOS. */
static void cache_root(char *path, size_t size) {
    const char *home = getenv("HOME");
#ifdef __APPLE__
    if (!home || !*home) fail("HOME is not set", NULL);
    snprintf(path, size, "%s/Library/Caches/Counterfoil", home);
#else
    const char *xdg = getenv("XDG_CACHE_HOME");
    if (xdg && xdg[0] == '/') snprintf(path, size, "%s/Counterfoil", xdg);
    else if (home && *home) snprintf(path, size, "%s/.cache/Counterfoil", home);
    else fail("neither HOME nor XDG_CACHE_HOME is set", NULL);
#endif
}

static void make_dirs(const char *path) {
    char partial[PATH_MAX];
    snprintf(partial, sizeof partial, "%s", path);
    for (char *p = partial + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(partial, 0700) != 0 && errno != EEXIST) fail("cannot create", partial);
        *p = '/';
    }
    if (mkdir(partial, 0700) != 0 && errno != EEXIST) fail("cannot create", partial);
    errno = 0;
}

static int run_and_wait(char *const argv[], int stdin_fd) {
    pid_t child = fork();
    if (child < 0) fail("cannot start", argv[0]);
    if (child == 0) {
        if (stdin_fd >= 0) { dup2(stdin_fd, 0); close(stdin_fd); }
        execvp(argv[0], argv);
        fprintf(stderr, "counterfoil: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    if (stdin_fd >= 0) close(stdin_fd);
    return child;
}

static int wait_for(pid_t child) {
    int status = 0;
    while (waitpid(child, &status, 0) < 0) {
        if (errno != EINTR) return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void remove_tree(const char *path) {
    char *argv[] = {"rm", "-rf", (char *)path, NULL};
    wait_for(run_and_wait(argv, -1));
}

/* Unpacks the payload (offset, size in the file `self`) into `target` through a temporary folder. */
static void unpack(int self, off_t offset, unsigned long long size, const char *target) {
    char temporary[PATH_MAX];
    join(temporary, sizeof temporary, target, ".unpacking-XXXXXX");
    if (mkdtemp(temporary) == NULL) fail("cannot create", temporary);
    fputs("Counterfoil: unpacking this version (its first start; later starts are immediate)...\n", stderr);

    int pipe_fds[2];
    if (pipe(pipe_fds) != 0) fail("cannot create a pipe", NULL);
    /* tar must not hold the pipe's writing end, or it never sees the end of the payload. */
    fcntl(pipe_fds[1], F_SETFD, FD_CLOEXEC);
    char *tar_argv[] = {"tar", "-xJf", "-", "-C", temporary, NULL};
    pid_t tar = run_and_wait(tar_argv, pipe_fds[0]);

    static char buffer[1 << 20];
    unsigned long long left = size;
    int write_failed = 0;
    if (lseek(self, offset, SEEK_SET) < 0) fail("cannot read itself", NULL);
    while (left > 0 && !write_failed) {
        ssize_t n = read(self, buffer, left < sizeof buffer ? (size_t)left : sizeof buffer);
        if (n <= 0) fail("cannot read itself", "the program file is shorter than its trailer says");
        for (ssize_t done = 0; done < n;) {
            ssize_t w = write(pipe_fds[1], buffer + done, (size_t)(n - done));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) { write_failed = 1; break; }
            done += w;
        }
        left -= (unsigned long long)n;
    }
    close(pipe_fds[1]);
    int tar_status = wait_for(tar);
    if (write_failed || tar_status != 0) {
        remove_tree(temporary);
        errno = 0;
        fail("unpacking failed (is the disk full?)", temporary);
    }
    if (rename(temporary, target) != 0) {
        /* Another first start finished first: its folder is as good as ours. */
        if (errno != EEXIST && errno != ENOTEMPTY) fail("cannot rename", temporary);
        remove_tree(temporary);
    }
    errno = 0;
}

int main(int argc, char *argv[]) {
    (void)argc;
    signal(SIGPIPE, SIG_IGN);
    char self_path[PATH_MAX];
    own_path(self_path, sizeof self_path);
    int self = open(self_path, O_RDONLY | O_CLOEXEC);
    if (self < 0) fail("cannot open itself", self_path);

    struct stat self_stat;
    if (fstat(self, &self_stat) != 0 || self_stat.st_size < TRAILER_SIZE) fail("cannot read itself", self_path);
    char trailer[TRAILER_SIZE + 1] = {0};
    if (pread(self, trailer, TRAILER_SIZE, self_stat.st_size - TRAILER_SIZE) != TRAILER_SIZE)
        fail("cannot read itself", self_path);
    unsigned long long payload_size = 0;
    char build_id[65] = {0};
    if (strncmp(trailer, TRAILER_MAGIC, strlen(TRAILER_MAGIC)) != 0 ||
        sscanf(trailer + strlen(TRAILER_MAGIC), "%llu %64s", &payload_size, build_id) != 2 ||
        payload_size == 0 || (off_t)payload_size > self_stat.st_size - TRAILER_SIZE) {
        errno = 0;
        fail("this file holds no program (damaged or cut short?)", self_path);
    }

    char root[PATH_MAX], target[PATH_MAX], program[PATH_MAX];
    cache_root(root, sizeof root);
    char leaf[80];
    snprintf(leaf, sizeof leaf, "/%s", build_id);
    join(target, sizeof target, root, leaf);
    join(program, sizeof program, target, "/" PROGRAM_NAME);

    if (access(program, X_OK) != 0) {
        make_dirs(root);
        off_t payload_offset = self_stat.st_size - TRAILER_SIZE - (off_t)payload_size;
        unpack(self, payload_offset, payload_size, target);
    }
    close(self);
    signal(SIGPIPE, SIG_DFL);
    argv[0] = program;
    execv(program, argv);
    fail("cannot start", program);
    return 70;
}
