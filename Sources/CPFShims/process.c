#define _GNU_SOURCE
#include "CPFProcess.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int pf_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

int pf_set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int pf_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int *pid_out) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int status = posix_spawn_file_actions_init(&actions);
    if (status != 0) return status;
    status = posix_spawnattr_init(&attributes);
    if (status != 0) {
        posix_spawn_file_actions_destroy(&actions);
        return status;
    }
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    if (status == 0) status = posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
    if (status == 0) status = posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
    if (status == 0) status = posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
    if (status == 0) status = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    if (status == 0) status = posix_spawnattr_setpgroup(&attributes, 0);
    if (status == 0) status = posix_spawnattr_setsigdefault(&attributes, &all);
    if (status == 0) status = posix_spawnattr_setsigmask(&attributes, &none);
    pid_t pid = 0;
    if (status == 0) status = posix_spawn(&pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (status == 0) *pid_out = (int)pid;
    return status;
}

int pf_wait_ended(int pid, int no_hang, int *status, int *signal, int *core_dumped) {
    siginfo_t info;
    for (;;) {
        memset(&info, 0, sizeof info);
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT | (no_hang ? WNOHANG : 0)) == 0) break;
        if (errno != EINTR) return -1;
    }
    if (info.si_pid == 0) return 0;
    *status = 0;
    *signal = 0;
    *core_dumped = 0;
    if (info.si_code == CLD_EXITED) {
        *status = info.si_status;
    } else {
        *signal = info.si_status;
        *core_dumped = info.si_code == CLD_DUMPED;
    }
    return 1;
}

int pf_set_parent_death_signal(int sig) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)sig, 0UL, 0UL, 0UL);
}

int pf_block_sigpipe_in_thread(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    return pthread_sigmask(SIG_BLOCK, &set, NULL);
}

const char *pf_signal_abbreviation(int sig) {
    return sigabbrev_np(sig);
}

