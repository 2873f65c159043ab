/* Process helpers for pfhost's capture processes (`pfhost snapshot --isolate`): spawning a child
 * with chosen standard descriptors, waiting for it without reaping it, and the few Linux calls
 * Swift's Glibc module does not expose. Internal to pfhost. */
#ifndef CPFPROCESS_H
#define CPFPROCESS_H

/** pipe2(O_CLOEXEC): fds[0] reads, fds[1] writes. 0 or -1/errno. */
int pf_pipe_cloexec(int fds[2]);

/** Sets O_NONBLOCK on `fd`. 0 or -1/errno. */
int pf_set_nonblocking(int fd);

/**
 * posix_spawn of `path` with `argv` and `envp`: the child's stdin is `stdin_fd`, its stdout
 * `stdout_fd`, its stderr this process's; every other descriptor is closed in the child. The child
 * gets a process group of its own (so the group can be killed), the default action for every
 * signal and an empty signal mask. Returns 0 and the child's pid in `*pid_out`, or an errno.
 */
int pf_spawn(const char *path, char *const argv[], char *const envp[], int stdin_fd, int stdout_fd, int *pid_out);

/**
 * waitid(P_PID, pid, WEXITED | WNOWAIT): waits until the child `pid` has ended (at once with
 * `no_hang`), leaving it unreaped, so its pid cannot be reused meanwhile. Returns 1 when it has
 * ended, with `*signal` 0 and `*status` its exit status, or `*signal` the signal that killed it
 * and `*core_dumped` 1 if it dumped core; 0 when it is still running (`no_hang`); -1/errno.
 */
int pf_wait_ended(int pid, int no_hang, int *status, int *signal, int *core_dumped);

/** prctl(PR_SET_PDEATHSIG, sig): `sig` is sent to this process when the thread that created it ends. 0 or -1/errno. */
int pf_set_parent_death_signal(int sig);

/** Blocks SIGPIPE in the calling thread, so a write to a pipe nobody reads fails with EPIPE. 0 or an errno. */
int pf_block_sigpipe_in_thread(void);

/** Every signal's abbreviation without "SIG" ("SEGV"), or NULL for an unknown number (sigabbrev_np). */
const char *pf_signal_abbreviation(int sig);

#endif
