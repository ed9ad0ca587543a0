/* stack: starts and stops the embedded stack (redis-server, footfall broker, processors) for the demo and tests. */
#define _GNU_SOURCE /* sched_setaffinity, cpu_set_t */
#include "stack.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ff_util.h"

extern char **environ;

int ff_free_port(void)
{
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &len) == 0)
        port = ntohs(addr.sin_port);
    close(fd);
    return port;
}

pid_t ff_spawn(const char *const argv[], const char *const env[], const char *log_path)
{
    return ff_spawn_on(argv, env, log_path, 0);
}

char **ff_env_with(const char *const env[])
{
    size_t nenv = 0, nextra = 0, n = 0;
    char **out;
    while (environ[nenv])
        nenv++;
    while (env && env[nextra])
        nextra++;
    out = ff_malloc((nenv + nextra + 1) * sizeof(char *));
    for (size_t i = 0; i < nenv; i++)
        out[n++] = environ[i];
    for (size_t i = 0; i < nextra; i++) {
        const char *eq = strchr(env[i], '=');
        size_t name = eq ? (size_t)(eq - env[i]) + 1 : strlen(env[i]), k;
        for (k = 0; k < n && strncmp(out[k], env[i], name); k++)
            ;
        out[k] = (char *)env[i];
        if (k == n)
            n++;
    }
    out[n] = NULL;
    return out;
}

/* Two strings and a newline to stderr, with nothing but write(2): all a
 * forked child may use before it execs. */
static void child_say(const char *a, const char *b)
{
    ssize_t w = write(STDERR_FILENO, a, strlen(a));
    w += write(STDERR_FILENO, b, strlen(b));
    w += write(STDERR_FILENO, "\n", 1);
    (void)w;
}

int ff_child_output(const char *path, int fd)
{
    int f = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (f < 0)
        return -1;
    if (f != fd) {
        dup2(f, fd);
        close(f);
    }
    return 0;
}

pid_t ff_spawn_on(const char *const argv[], const char *const env[], const char *log_path,
                  unsigned long cpus)
{
    pid_t parent = getpid();
    /* Everything the child needs is made before the fork: the parent may
     * have threads (librdkafka's, in a test), and a child that allocates
     * (putenv does) can block for good on a lock one of them held at the
     * fork. That left a processor that never started, about once in a few
     * hundred spawns under ASan. Between fork and exec only
     * async-signal-safe calls. */
    char **envp = ff_env_with(env);
    pid_t pid = fork();
    if (pid < 0) {
        free(envp);
        return -1;
    }
    if (pid == 0) {
        /* The child must not outlive a test or demo that crashed. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        setpgid(0, 0);
        if (log_path && ff_child_output(log_path, STDOUT_FILENO) == 0)
            dup2(STDOUT_FILENO, STDERR_FILENO);
        if (cpus) {
            /* As taskset would: every thread the program starts inherits it. */
            cpu_set_t set;
            CPU_ZERO(&set);
            for (int c = 0; c < (int)(8 * sizeof cpus); c++)
                if (cpus & (1UL << c))
                    CPU_SET(c, &set);
            if (sched_setaffinity(0, sizeof set, &set) == -1)
                child_say("cannot pin to the CPUs asked for: ", argv[0]);
        }
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execve(argv[0], (char *const *)argv, envp);
        child_say("cannot run ", argv[0]);
        _exit(127);
    }
    free(envp);
    return pid;
}

int ff_reap(pid_t pid, int sig, int timeout_ms)
{
    int status = 0;
    int64_t deadline = ff_mono_ms() + timeout_ms;
    if (pid <= 0)
        return -1;
    if (sig)
        kill(pid, sig);
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0)
            return -1;
        if (ff_mono_ms() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        ff_sleep_ms(10);
    }
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

void ff_exe_dir(char *buf, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", buf, size - 1);
    char *slash;
    if (n <= 0) {
        snprintf(buf, size, ".");
        return;
    }
    buf[n] = '\0';
    slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
}

int ff_stack_init(ff_stack_t *s, const char *bin_dir)
{
    memset(s, 0, sizeof(*s));
    snprintf(s->dir, sizeof s->dir, "/tmp/footfall-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->bin_dir, sizeof s->bin_dir, "%s", bin_dir);
    return 0;
}

static int redis_ping(int port)
{
    struct timeval tv = {0, 200000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r;
    int ok = 0;
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return 0;
    }
    r = redisCommand(c, "PING");
    ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    redisFree(c);
    return ok;
}

/* redis-server on port in dir with extra arguments; waits until it answers
 * PING. Its pid, or -1 (most likely the port was taken meanwhile). */
static pid_t spawn_redis(const char *dir, const char *log, int port, const char *const *extra,
                         unsigned long cpus)
{
    char portstr[16];
    const char *argv[40];
    int argc = 0;
    pid_t pid;
    snprintf(portstr, sizeof portstr, "%d", port);
    argv[argc++] = "/usr/bin/redis-server";
    argv[argc++] = "--port";
    argv[argc++] = portstr;
    argv[argc++] = "--bind";
    argv[argc++] = "127.0.0.1";
    argv[argc++] = "--dir";
    argv[argc++] = dir;
    argv[argc++] = "--save";
    argv[argc++] = "";
    argv[argc++] = "--appendonly";
    argv[argc++] = "no";
    for (int i = 0; extra && extra[i] && argc < 38; i++)
        argv[argc++] = extra[i];
    argv[argc] = NULL;
    pid = ff_spawn_on(argv, NULL, log, cpus);
    if (pid < 0)
        return -1;
    for (int i = 0; i < 500; i++) {
        if (redis_ping(port))
            return pid;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return -1; /* it died */
        ff_sleep_ms(10);
    }
    ff_reap(pid, SIGKILL, 1000);
    return -1;
}

static int launch_redis(ff_stack_t *s)
{
    char log[600];
    snprintf(log, sizeof log, "%s/redis.log", s->dir);
    s->redis_pid = spawn_redis(s->dir, log, s->redis_port, s->redis_args, s->cpus_redis);
    if (s->redis_pid < 0) {
        s->redis_pid = 0;
        return -1;
    }
    snprintf(s->redis_url, sizeof s->redis_url, "redis://127.0.0.1:%d/0", s->redis_port);
    return 0;
}

int ff_stack_start_redis(ff_stack_t *s, const char *const *extra)
{
    size_t n = 0;
    for (; extra && extra[n] && n + 1 < FF_ARRAY_LEN(s->redis_args); n++)
        s->redis_args[n] = extra[n];
    s->redis_args[n] = NULL;
    for (int attempt = 0; attempt < 5; attempt++) {
        s->redis_port = ff_free_port();
        if (launch_redis(s) == 0)
            return 0;
    }
    return -1;
}

int ff_stack_restart_redis(ff_stack_t *s)
{
    return launch_redis(s);
}

int ff_stack_stop_redis(ff_stack_t *s)
{
    int rc = ff_reap(s->redis_pid, SIGTERM, 5000);
    s->redis_pid = 0;
    return rc;
}

/* A reply to one command on 127.0.0.1:port (caller frees), or NULL. */
static redisReply *node_command(int port, const char *cmd)
{
    struct timeval tv = {2, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    redisReply *r = NULL;
    if (c && !c->err)
        r = redisCommand(c, cmd);
    if (c)
        redisFree(c);
    return r;
}

/* Runs argv to completion, output to log; its exit status. */
static int run_tool(const char *const argv[], const char *log, int timeout_ms)
{
    pid_t pid = ff_spawn(argv, NULL, log);
    return pid < 0 ? -1 : ff_reap(pid, 0, timeout_ms);
}

int ff_stack_start_redis_cluster(ff_stack_t *s, int masters)
{
    char log[600], dir[600], addr[FF_STACK_MAX_CLUSTER][32];
    const char *argv[FF_STACK_MAX_CLUSTER + 8];
    int argc = 0;
    size_t off;
    if (masters < 1 || masters > FF_STACK_MAX_CLUSTER)
        return -1;
    for (int i = 0; i < masters; i++) {
        snprintf(dir, sizeof dir, "%s/redis-%d", s->dir, i);
        snprintf(log, sizeof log, "%s/redis-%d.log", s->dir, i);
        if (mkdir(dir, 0700) == -1 && errno != EEXIST)
            return -1;
        for (int attempt = 0; attempt < 5 && s->cluster_pids[i] <= 0; attempt++) {
            char bus[16];
            int port = ff_free_port(), busport = ff_free_port();
            const char *extra[] = {"--cluster-enabled", "yes", "--cluster-config-file",
                                   "nodes.conf", "--cluster-node-timeout", "5000",
                                   "--cluster-port", bus, NULL};
            if (busport == port)
                continue;
            snprintf(bus, sizeof bus, "%d", busport);
            s->cluster_pids[i] = spawn_redis(dir, log, port, extra, s->cpus_redis);
            s->cluster_ports[i] = port;
        }
        s->ncluster = i + 1;
        if (s->cluster_pids[i] <= 0)
            return -1;
        snprintf(addr[i], sizeof addr[i], "127.0.0.1:%d", s->cluster_ports[i]);
    }
    argv[argc++] = "/usr/bin/redis-cli";
    argv[argc++] = "--cluster";
    argv[argc++] = "create";
    for (int i = 0; i < masters; i++)
        argv[argc++] = addr[i];
    argv[argc++] = "--cluster-replicas";
    argv[argc++] = "0";
    argv[argc++] = "--cluster-yes";
    argv[argc] = NULL;
    snprintf(log, sizeof log, "%s/redis-cluster-create.log", s->dir);
    if (run_tool(argv, log, 60000) != 0)
        return -1;
    /* Every node agrees the cluster is up, and knows its id. */
    for (int i = 0; i < masters; i++) {
        bool ok = false;
        for (int k = 0; k < 1000 && !ok; k++) {
            redisReply *r = node_command(s->cluster_ports[i], "CLUSTER INFO");
            ok = r && r->type == REDIS_REPLY_STRING && strstr(r->str, "cluster_state:ok");
            if (r)
                freeReplyObject(r);
            if (!ok)
                ff_sleep_ms(10);
        }
        redisReply *id = node_command(s->cluster_ports[i], "CLUSTER MYID");
        if (!ok || !id || id->type != REDIS_REPLY_STRING) {
            if (id)
                freeReplyObject(id);
            return -1;
        }
        snprintf(s->cluster_ids[i], sizeof s->cluster_ids[i], "%s", id->str);
        freeReplyObject(id);
    }
    off = (size_t)snprintf(s->redis_url, sizeof s->redis_url, "redis-cluster://");
    for (int i = 0; i < masters && off < sizeof s->redis_url; i++)
        off += (size_t)snprintf(s->redis_url + off, sizeof s->redis_url - off, "%s%s",
                                i ? "," : "", addr[i]);
    s->redis_port = s->cluster_ports[0];
    return 0;
}

pid_t ff_stack_cluster_churn(ff_stack_t *s, int nslots)
{
    char log[600];
    ff_buf_t sh;
    pid_t pid;
    if (s->ncluster < 2)
        return -1;
    ff_buf_init(&sh);
    /* Round and round: master i gives nslots to master i+1, until told to
     * stop; a reshard that fails (nodes not agreeing yet on the last one)
     * is tried again a moment later. */
    ff_buf_printf(&sh, "cd '%s' || exit 1\n: > churn.count\nwhile [ ! -e churn.stop ]; do\n",
                  s->dir);
    for (int i = 0; i < s->ncluster; i++) {
        int to = (i + 1) % s->ncluster;
        ff_buf_printf(&sh,
                      "  [ -e churn.stop ] && break\n"
                      "  if /usr/bin/redis-cli --cluster reshard 127.0.0.1:%d --cluster-from %s "
                      "--cluster-to %s --cluster-slots %d --cluster-yes >>churn.out 2>&1; then\n"
                      "    echo ok >> churn.count\n  else\n    echo failed >> churn.count; "
                      "sleep 1\n  fi\n",
                      s->cluster_ports[i], s->cluster_ids[i], s->cluster_ids[to], nslots);
    }
    ff_buf_puts(&sh, "done\n");
    snprintf(log, sizeof log, "%s/churn.log", s->dir);
    const char *argv[] = {"/bin/sh", "-c", sh.data, NULL};
    pid = ff_spawn(argv, NULL, log);
    ff_buf_term(&sh);
    return pid;
}

int ff_stack_cluster_churn_stop(ff_stack_t *s, pid_t pid)
{
    char path[600];
    FILE *fp;
    int done = 0;
    char line[64];
    snprintf(path, sizeof path, "%s/churn.stop", s->dir);
    if ((fp = fopen(path, "w")))
        fclose(fp);
    /* A reshard in progress finishes: stopping it midway would leave a
     * slot half migrated. */
    if (ff_reap(pid, 0, 300000) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/churn.count", s->dir);
    if (!(fp = fopen(path, "r")))
        return -1;
    while (fgets(line, sizeof line, fp))
        done += !strcmp(line, "ok\n");
    fclose(fp);
    unlink(path);
    snprintf(path, sizeof path, "%s/churn.stop", s->dir);
    unlink(path);
    return done;
}

int ff_stack_start_broker(ff_stack_t *s, int partitions)
{
    char exe[600], file[600], log[600], parts[16];
    FILE *fp;
    snprintf(exe, sizeof exe, "%s/footfall", s->bin_dir);
    snprintf(file, sizeof file, "%s/bootstrap", s->dir);
    snprintf(log, sizeof log, "%s/broker.log", s->dir);
    snprintf(parts, sizeof parts, "%d", partitions);
    const char *argv[] = {exe, "broker", "--partitions", parts, "--bootstrap-file", file, NULL};
    unlink(file); /* a broker started before in this stack left its address */
    s->broker_pid = ff_spawn_on(argv, NULL, log, s->cpus_broker);
    if (s->broker_pid < 0)
        return -1;
    for (int i = 0; i < 1000; i++) {
        fp = fopen(file, "r");
        if (fp) {
            int ok = fgets(s->bootstrap, sizeof s->bootstrap, fp) != NULL;
            fclose(fp);
            if (ok && strchr(s->bootstrap, '\n')) {
                *strchr(s->bootstrap, '\n') = '\0';
                return 0;
            }
        }
        if (waitpid(s->broker_pid, NULL, WNOHANG) == s->broker_pid)
            break;
        ff_sleep_ms(10);
    }
    ff_reap(s->broker_pid, SIGKILL, 1000);
    s->broker_pid = 0;
    return -1;
}

/* The command in FOOTFALL_PROC_WRAPPER (words separated by spaces, the
 * first looked up in PATH), into argv ahead of the processor: `make
 * valgrind` runs the processors under valgrind this way. The number of
 * words put in argv (0: none set), or -1 if the first is not found. The
 * words point into buf. */
static int proc_wrapper(char *buf, size_t size, char *path, size_t path_size, const char **argv,
                        int max)
{
    const char *w = getenv("FOOTFALL_PROC_WRAPPER");
    char *save = NULL;
    int n = 0;
    if (!w || !*w)
        return 0;
    snprintf(buf, size, "%s", w);
    for (char *word = strtok_r(buf, " ", &save); word && n < max;
         word = strtok_r(NULL, " ", &save))
        argv[n++] = word;
    if (n == 0)
        return 0;
    if (!strchr(argv[0], '/')) {
        const char *dirs = getenv("PATH");
        bool found = false;
        while (dirs && *dirs && !found) {
            size_t len = strcspn(dirs, ":");
            snprintf(path, path_size, "%.*s/%s", (int)len, dirs, argv[0]);
            found = access(path, X_OK) == 0;
            dirs += len + (dirs[len] == ':');
        }
        if (!found) {
            fprintf(stderr, "FOOTFALL_PROC_WRAPPER: %s is not in PATH\n", argv[0]);
            return -1;
        }
        argv[0] = path;
    }
    return n;
}

int ff_stack_start_proc(ff_stack_t *s, const char *name, const char *const env[])
{
    char wrapper[1024], wrapper_path[1024];
    const char *argv[34];
    int argc;
    char exe[600];
    const char *fullenv[40];
    int n = 0;
    ff_stack_proc_t *p;
    if (s->nprocs >= FF_STACK_MAX_PROCS)
        return -1;
    p = &s->procs[s->nprocs];
    snprintf(exe, sizeof exe, "%s/footfall-%s", s->bin_dir, name);
    snprintf(p->name, sizeof p->name, "%s", name);
    {
        char log[sizeof p->log];
        snprintf(log, sizeof log, "%s/%s.%d.log", s->dir, name, s->nprocs);
        memcpy(p->log, log, sizeof log);
    }
    char *bootstrap = ff_asprintf("FOOTFALL_KAFKA_BOOTSTRAP_SERVERS=%s", s->bootstrap);
    char *redis = ff_asprintf("FOOTFALL_REDIS_URL=%s", s->redis_url);
    char *instance = ff_asprintf("FOOTFALL_INSTANCE_ID=%s-%d", name, s->nprocs);
    fullenv[n++] = bootstrap;
    fullenv[n++] = redis;
    fullenv[n++] = instance;
    /* The embedded broker holds a fetch that finds no records for the whole
     * fetch.wait.max.ms (500 ms by default) even when records arrive
     * meanwhile; Kafka answers as soon as there is one. Ask for short waits
     * unless the caller chose. */
    if (!getenv("FOOTFALL_KAFKA_FETCH_WAIT_MAX_MS"))
        fullenv[n++] = "FOOTFALL_KAFKA_FETCH_WAIT_MAX_MS=10";
    for (int i = 0; env && env[i] && n < 38; i++)
        fullenv[n++] = env[i];
    fullenv[n] = NULL;
    argc = proc_wrapper(wrapper, sizeof wrapper, wrapper_path, sizeof wrapper_path, argv,
                        (int)FF_ARRAY_LEN(argv) - 2);
    if (argc < 0) {
        p->pid = -1;
    } else {
        argv[argc++] = exe;
        argv[argc] = NULL;
        p->pid = ff_spawn_on(argv, fullenv, p->log, s->cpus_procs);
    }
    /* The child has its own copy of the environment strings. */
    free(bootstrap);
    free(redis);
    free(instance);
    if (p->pid < 0)
        return -1;
    return s->nprocs++;
}

int ff_stack_stop_proc(ff_stack_t *s, int index, int sig)
{
    int rc;
    if (index < 0 || index >= s->nprocs || s->procs[index].pid <= 0)
        return -1;
    rc = ff_reap(s->procs[index].pid, sig ? sig : SIGTERM, 20000);
    s->procs[index].pid = 0;
    return rc;
}

/* pid's stat, or its thread tid's (tid > 0). */
static const char *read_stat(pid_t pid, pid_t tid, char *buf, size_t size)
{
    char path[96];
    const char *paren;
    FILE *fp;
    size_t n;
    if (tid > 0)
        snprintf(path, sizeof path, "/proc/%d/task/%d/stat", (int)pid, (int)tid);
    else
        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    if (pid <= 0 || !(fp = fopen(path, "r")))
        return NULL;
    n = fread(buf, 1, size - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: the fields go on
     * after the last ')'. */
    paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' ? paren + 2 : NULL;
}

const char *ff_proc_stat(pid_t pid, char *buf, size_t size)
{
    return read_stat(pid, 0, buf, size);
}

const char *ff_task_stat(pid_t pid, pid_t tid, char *buf, size_t size)
{
    return read_stat(pid, tid, buf, size);
}

bool ff_stack_proc_running(const ff_stack_t *s, int index)
{
    char stat[512];
    const char *state;
    if (index < 0 || index >= s->nprocs || s->procs[index].pid <= 0)
        return false;
    state = ff_proc_stat(s->procs[index].pid, stat, sizeof stat);
    return state && *state != 'Z' && *state != 'X';
}

static void remove_dir(const char *dir)
{
    char cmd[600];
    /* Only ever a directory we made under /tmp. */
    if (strncmp(dir, "/tmp/footfall-", 14))
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

void ff_stack_stop(ff_stack_t *s)
{
    for (int i = 0; i < s->nprocs; i++)
        if (s->procs[i].pid > 0)
            ff_stack_stop_proc(s, i, SIGTERM);
    if (s->broker_pid > 0)
        ff_reap(s->broker_pid, SIGTERM, 5000);
    s->broker_pid = 0;
    if (s->redis_pid > 0)
        ff_stack_stop_redis(s);
    for (int i = 0; i < s->ncluster; i++)
        if (s->cluster_pids[i] > 0)
            ff_reap(s->cluster_pids[i], SIGTERM, 5000);
    s->ncluster = 0;
    if (s->dir[0] && !s->keep_dir)
        remove_dir(s->dir);
}
