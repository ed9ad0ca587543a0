/* stack: starts and stops the embedded stack (redis-server, footfall broker, processors) for the demo and tests. */
#ifndef FF_STACK_H
#define FF_STACK_H

#include <stdbool.h>
#include <sys/types.h>

#define FF_STACK_MAX_PROCS 128
#define FF_STACK_MAX_CLUSTER 6

typedef struct ff_stack_proc_s {
    pid_t pid;
    char name[64];
    char log[512];
} ff_stack_proc_t;

typedef struct ff_stack_s {
    char dir[256];       /* a temporary directory for logs, sockets and data */
    char bin_dir[512];   /* where footfall and footfall-<proc> live */
    pid_t redis_pid;
    int redis_port;
    const char *redis_args[16]; /* the extra arguments it was started with */
    char redis_url[256];
    /* A Redis Cluster instead (ff_stack_start_redis_cluster): its masters. */
    int ncluster;
    pid_t cluster_pids[FF_STACK_MAX_CLUSTER];
    int cluster_ports[FF_STACK_MAX_CLUSTER];
    char cluster_ids[FF_STACK_MAX_CLUSTER][48];
    pid_t broker_pid;
    char bootstrap[256];
    ff_stack_proc_t procs[FF_STACK_MAX_PROCS];
    int nprocs;
    bool keep_dir; /* leave the directory for a post-mortem */
    /* CPU masks for what the stack starts (0: unpinned), for benchmarks. */
    unsigned long cpus_redis, cpus_broker, cpus_procs;
} ff_stack_t;

/* A free TCP port on 127.0.0.1 (bound and released: retry if it is taken). */
int ff_free_port(void);

/* Starts argv[0] (a path) with extra environment entries ("K=V", NULL-
 * terminated, may be NULL), stdout and stderr to log_path (NULL: inherited).
 * The child dies with its parent (PR_SET_PDEATHSIG). -1 on failure. */
pid_t ff_spawn(const char *const argv[], const char *const env[], const char *log_path);
/* The same, pinned to the CPUs of the mask `cpus` (bit n: CPU n; 0: any). */
pid_t ff_spawn_on(const char *const argv[], const char *const env[], const char *log_path,
                  unsigned long cpus);
/* environ with the "K=V" entries of env set (a later one wins), in one
 * array (free() it; the strings stay the caller's and environ's): made
 * before a fork, for execve. */
char **ff_env_with(const char *const env[]);
/* In a forked child: fd (STDOUT_FILENO, …) appends to path. Only
 * async-signal-safe calls. 0, or -1 if path cannot be opened. */
int ff_child_output(const char *path, int fd);
/* Sends sig, waits up to timeout_ms, then SIGKILLs. Returns the exit status
 * (WEXITSTATUS), 128+signal if killed by one, -1 if it was not a child. */
int ff_reap(pid_t pid, int sig, int timeout_ms);

/* The directory of the running executable (where the other binaries are). */
void ff_exe_dir(char *buf, size_t size);

/* Makes a stack with a fresh temporary directory; nothing runs yet. */
int ff_stack_init(ff_stack_t *s, const char *bin_dir);
/* redis-server on a free port, in s->dir, with extra arguments (NULL-
 * terminated, may be NULL; "--appendonly yes" for durability tests).
 * Waits until it answers PING. 0 or -1. */
int ff_stack_start_redis(ff_stack_t *s, const char *const *extra);
int ff_stack_stop_redis(ff_stack_t *s);
/* Starts redis-server again on the same port, directory and arguments
 * (its AOF or RDB, if it kept one, is loaded). 0 or -1. */
int ff_stack_restart_redis(ff_stack_t *s);
/* A Redis Cluster of `masters` redis-servers (no replicas) on free ports,
 * created with redis-cli --cluster create; waits until every node says the
 * cluster is ok. redis_url is then redis-cluster://host:port,… and
 * redis_port the first master's. 0 or -1. */
int ff_stack_start_redis_cluster(ff_stack_t *s, int masters);
/* Reshards the cluster in the background, as an operator would (redis-cli
 * --cluster reshard): master i gives nslots slots to master i+1, round and
 * round, until ff_stack_cluster_churn_stop. Returns the pid, or -1. */
pid_t ff_stack_cluster_churn(ff_stack_t *s, int nslots);
/* Lets the reshard in progress finish and stops; returns how many
 * reshards completed, or -1. */
int ff_stack_cluster_churn_stop(ff_stack_t *s, pid_t pid);
/* footfall broker with `partitions` per topic; waits for its address. */
int ff_stack_start_broker(ff_stack_t *s, int partitions);
/* footfall-<name> with extra "K=V" environment entries; its log goes to
 * <dir>/<name>.<n>.log. Under the command in FOOTFALL_PROC_WRAPPER, if
 * set (make valgrind). Returns the index in s->procs, or -1. */
int ff_stack_start_proc(ff_stack_t *s, const char *name, const char *const env[]);
/* SIGTERM (or sig) and wait; returns the exit status. */
int ff_stack_stop_proc(ff_stack_t *s, int index, int sig);
/* Whether process `index` is still running (not exited, not stopped by
 * ff_stack_stop_proc); it is not reaped, so ff_stack_stop_proc still
 * returns how it ended. */
bool ff_stack_proc_running(const ff_stack_t *s, int index);
/* /proc/<pid>/stat read into buf; returns its fields from the state on
 * (after "pid (comm) "), or NULL if there is no such process. */
const char *ff_proc_stat(pid_t pid, char *buf, size_t size);
/* The same for one thread of pid: /proc/<pid>/task/<tid>/stat. */
const char *ff_task_stat(pid_t pid, pid_t tid, char *buf, size_t size);
/* Stops everything (processors first) and removes the directory. */
void ff_stack_stop(ff_stack_t *s);

#endif
