/*
 * measure: runs a command (stdout to /dev/null) and prints, on one line, its wall time in
 * nanoseconds, its peak RSS in KiB and its wait status.
 *
 * pfbench runs every measured command through this small program because Linux never reports a
 * child's ru_maxrss below the high-water mark of the memory it started in: a process spawned
 * straight from pfbench (about 21 MiB) reads at least 21 MiB, one forked from here starts at
 * this program's few hundred KiB.
 *
 *     cc -O2 -o measure Benchmarks/measure.c
 *     measure /usr/bin/git --version        ->  "1234567 3456 0"
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: measure COMMAND [ARGUMENT...]\n");
        return 64;
    }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    pid_t pid = fork();
    if (pid < 0) {
        perror("measure: fork");
        return 71;
    }
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            close(null);
        }
        execv(argv[1], argv + 1);
        perror(argv[1]);
        _exit(127);
    }
    int status = 0;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) < 0) {
        perror("measure: wait4");
        return 71;
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    long long nanoseconds = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
    printf("%lld %ld %d\n", nanoseconds, usage.ru_maxrss, status);
    return 0;
}
