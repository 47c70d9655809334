/* outfile.c: the run file's life (its HDF5 layout is runfile.c; what it records of a run,
   describe.c): one writer per file, resume, appends that cost what they add, the fold, temporary
   files, and a clean stop on a signal (docs/design.md "Run files").
   One writer per file: rank 0 holds an exclusive lock on the run file itself (an open file
   description lock, whatever name or path reaches the file) and on a lock file beside it,
   .FILE.lock, which names the holder; the kernel releases both when the process dies.
   Appends: realizations go to FILE.pending, an append-only log of checksummed records (a write
   and a sync per round, whatever the size of FILE); a record cut by a kill is ignored. The log is
   folded into FILE (a copy beside it with the records added, synced and renamed over FILE) when it
   holds FOLD_RATIO times the realizations of FILE, and at the end of a run, so that each
   realization is copied O(1) times. The log names FILE's log_id: a fold gives FILE a new one, so
   that a log already folded (a kill between the rename and the log's reset) is recognised as
   stale. A symbolic link is written through; a write-protected file is refused. */
#define _GNU_SOURCE /* mkstemps, F_OFD_SETLK */
#include <petscsys.h>
#include <petsctao.h> /* TaoConvergedReasons, named in the log's header */
#include <hdf5.h>
#include <signal.h>
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include "khgps_options.h"
#include "khgps_result.h"
#include "khgps_outfile.h"
#include "describe.h"
#include "khgps_error.h"
#include "khgps_runfile.h"
#include "khgps_thermal.h"

/* The log is folded into FILE when it holds FOLD_RATIO times FILE's realizations (and at the end). */
#define FOLD_RATIO 4

/* Rank 0's hold on the run file, for the life of the process. */
static struct {
  char      path[PETSC_MAX_PATH_LEN];     /* the file written: -khgps_output, or where its symbolic link points */
  char      dir[PETSC_MAX_PATH_LEN];      /* its folder */
  char      base[PETSC_MAX_PATH_LEN];     /* its name in the folder */
  char      lock[2 * PETSC_MAX_PATH_LEN]; /* dir/.base.lock */
  char      host[256];
  int       lockfd; /* -1: no lock held (the file system has none) */
  mode_t    mode;   /* permissions of the file written (an existing file's own) */
  uid_t     uid;    /* an existing file's owner, kept where allowed */
  gid_t     gid;
  PetscBool keep_owner;
  PetscBool appended;                         /* this process has already replaced the file once */
  PetscBool broken;                           /* HDF5 could not close a temporary file (KhgpsOutputBroken) */
  int       mainfd;                           /* the run file itself, locked (-1: not there yet) */
  int       logfd;                            /* FILE.pending, open for appends (-1: not yet) */
  char      pending[PETSC_MAX_PATH_LEN + 16]; /* FILE.pending */
  char      log_id[40];                       /* FILE's log_id, which its log names */
  long      main_count, log_count;            /* realizations in FILE and in its log */
  long      log_bytes;                        /* valid bytes of the log */
  PetscInt  run_index;                        /* this run's /runs/NNNN */
  PetscBool run_logged;                       /* this run's description is in the file or its log */
} run = {.lockfd = -1, .mainfd = -1, .logfd = -1};

/* For the signal handler: the temporary file being written (removed if a signal stops the run). */
static char                  tmp_in_use[2 * PETSC_MAX_PATH_LEN];
static volatile sig_atomic_t tmp_set;

/* An abbreviated path for messages: long paths keep their end. */
static const char *Short(const char *path, char *buf, size_t len)
{
  size_t n = strlen(path);
  if (n <= 200) return path;
  snprintf(buf, len, "...%s", path + n - 160);
  return buf;
}

/* dir and base of a path ("." for a bare name). */
static void SplitPath(const char *path, char *dir, char *base, size_t len)
{
  const char *slash = strrchr(path, '/');

  if (!slash) {
    snprintf(dir, len, ".");
    snprintf(base, len, "%s", path);
  } else {
    snprintf(dir, len, "%.*s", slash == path ? 1 : (int)(slash - path), path);
    snprintf(base, len, "%s", slash + 1);
  }
}

/* Rank 0: the file to write: -khgps_output itself, or the file its symbolic link points to (written
   through: the link stays). Refused: a dangling link, something that is not a regular file, a file
   without write permission for its owner (or for this user). */
static int ResolveOutput(const char *output, char *msg, size_t len)
{
  struct stat st;
  mode_t      mask = umask(0);
  char        sb[256];
  const char *o = Short(output, sb, sizeof(sb));

  umask(mask);
  snprintf(run.path, sizeof(run.path), "%s", output);
  run.mode = 0666 & ~mask;
  if (lstat(output, &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      char *r = realpath(output, NULL);
      if (!r || stat(r, &st)) {
        snprintf(msg, len, "%s is a symbolic link to a missing file (%s); it was left as it is: point it to a file, or use another -khgps_output", o, strerror(errno));
        free(r);
        return 1;
      }
      snprintf(run.path, sizeof(run.path), "%s", r);
      free(r);
    }
    if (!S_ISREG(st.st_mode)) {
      snprintf(msg, len, "%s is not a regular file; it was left as it is: use another -khgps_output", o);
      return 1;
    }
    if (access(run.path, W_OK) && errno == EROFS) {
      snprintf(msg, len, "cannot write output file %s: it is on a read-only file system; it was left as it is: use another -khgps_output", o);
      return 1;
    }
    if (!(st.st_mode & S_IWUSR) || access(run.path, W_OK)) {
      snprintf(msg, len, "%s is write-protected (mode %04o); it was left as it is: make it writable (chmod u+w) to continue or replace it, or use another -khgps_output", o, (unsigned)(st.st_mode & 07777));
      return 1;
    }
    run.mode       = st.st_mode & 07777;
    run.uid        = st.st_uid;
    run.gid        = st.st_gid;
    run.keep_owner = (PetscBool)(st.st_uid != geteuid() || st.st_gid != getegid());
  } else if (errno != ENOENT) {
    snprintf(msg, len, "cannot write output file %s: %s", o, strerror(errno));
    return 1;
  }
  SplitPath(run.path, run.dir, run.base, sizeof(run.dir));
  return 0;
}

/* The lock file's text: "khgps host=H pid=P [part=NAME]" (scripts/khgps-merge writes the same
   with its own name). */
static void LockNote(const char *part)
{
  char        buf[2 * PETSC_MAX_PATH_LEN];
  int         n;
  const char *slash = part ? strrchr(part, '/') : NULL;

  if (run.lockfd < 0) return;
  n = snprintf(buf, sizeof(buf), "khgps host=%s pid=%d%s%s\n", run.host, (int)getpid(), part ? " part=" : "", part ? (slash ? slash + 1 : part) : "");
  if (ftruncate(run.lockfd, 0) == 0 && pwrite(run.lockfd, buf, (size_t)n, 0) == n) (void)fsync(run.lockfd);
}

/* A lock file's holder in words: "khgps on host H, pid P". */
static void Holder(const char *text, char *who, size_t len)
{
  char        prog[64] = "", host[256] = "?";
  long        pid = -1;
  const char *h = strstr(text, "host="), *q = strstr(text, "pid=");

  if (sscanf(text, "%63s", prog) != 1 || strncmp(prog, "khgps", 5)) {
    snprintf(who, len, "a run that is just starting");
    return;
  }
  if (h) sscanf(h + 5, "%255s", host);
  if (q) pid = strtol(q + 4, NULL, 10);
  snprintf(who, len, "%s on host %s, pid %ld", prog, host, pid);
}

/* The part=NAME of a lock file's text, if NAME is a temporary file name of this file. */
static int StalePart(const char *text, char name[4096])
{
  const char *q  = strstr(text, "part=");
  size_t      nb = strlen(run.base), n;

  if (!q || sscanf(q + 5, "%4095s", name) != 1) return 0;
  n = strlen(name);
  return n == nb + 13 && name[0] == '.' && !strncmp(name + 1, run.base, nb) && name[nb + 1] == '.' && !strcmp(name + nb + 8, ".part") && !strchr(name, '/');
}

/* Rank 0: take the run file's lock for the life of the process. Held by another process: refused,
   naming it. A file system without locks: a warning, and no protection. A temporary file that a
   killed holder left (named in the lock file) is removed. */
static int LockOutput(const char *output, char *msg, size_t len)
{
  char        text[2 * PETSC_MAX_PATH_LEN + 64] = "", name[4096];
  ssize_t     n;
  int         fd;
  char        sb[256], sl[256];
  const char *o = Short(output, sb, sizeof(sb)), *lk;

  if (gethostname(run.host, sizeof(run.host))) snprintf(run.host, sizeof(run.host), "unknown");
  run.host[sizeof(run.host) - 1] = 0;
  if (snprintf(run.lock, sizeof(run.lock), "%s/.%s.lock", run.dir, run.base) >= (int)sizeof(run.lock)) {
    snprintf(msg, len, "cannot write output file %s: its path is too long", o);
    return 1;
  }
  lk = Short(run.lock, sl, sizeof(sl));
  fd = open(run.lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
  if (fd < 0) {
    snprintf(msg, len, "cannot write output file %s: cannot create its lock file %s: %s", o, lk, strerror(errno));
    return 1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB)) {
    if (errno == EWOULDBLOCK) {
      char who[512];
      for (int t = 0; t < 50; t++) { /* the holder writes its name right after taking the lock */
        n                   = pread(fd, text, sizeof(text) - 1, 0);
        text[n > 0 ? n : 0] = 0;
        if (n > 0 && strchr(text, '\n')) break;
        usleep(10000);
      }
      Holder(text, who, sizeof(who));
      if (snprintf(msg, len, "%s is being written by another run (%s; lock file %s); it was left to it: wait for that run to end, or use another -khgps_output", o, who, lk) >= (int)len) msg[len - 1] = 0;
      close(fd);
      return 1;
    }
    fprintf(stderr, "khgps: WARNING: cannot lock %s (%s): this file system has no locks, so nothing stops a second run from writing %s at the same time\n", lk, strerror(errno), o);
    close(fd);
    return 0;
  }
  n                   = pread(fd, text, sizeof(text) - 1, 0);
  text[n > 0 ? n : 0] = 0;
  if (n > 0 && strncmp(text, "khgps", 5)) {
    snprintf(msg, len, "cannot write output file %s: its lock file %s exists and is not a khgps lock file; it was left as it is: move it away", o, lk);
    close(fd);
    return 1;
  }
  run.lockfd = fd;
  if (StalePart(text, name)) {
    char stale[2 * PETSC_MAX_PATH_LEN + 4096];
    if (snprintf(stale, sizeof(stale), "%s/%s", run.dir, name) < (int)sizeof(stale) && unlink(stale) == 0) printf("khgps: removed %s, the temporary file of a run on %s that was killed\n", stale, output);
  }
  LockNote(NULL);
  return 0;
}

/* Rank 0: a new temporary file beside the run file (unique name .FILE.XXXXXX.part, never a name a
   user may own), with the run file's permissions; its descriptor, or -1. */
static int MakeTemp(char *part, size_t len)
{
  int fd;

  if (snprintf(part, len, "%s/.%s.XXXXXX.part", run.dir, run.base) >= (int)len) {
    errno = ENAMETOOLONG;
    return -1;
  }
  fd = mkstemps(part, 5);
  if (fd < 0) return -1;
  (void)fchmod(fd, run.mode);
  if (run.keep_owner && fchown(fd, run.uid, run.gid)) { } /* where allowed (root): the owner stays */
  return fd;
}

/* ---- the pending log: header, records ------------------------------------------------------ */

static const char LOG_MAGIC[]  = KHGPS_PENDING_FORMAT;
static const char REC_MAGIC[8] = {'K', 'H', 'G', 'P', 'S', 'R', 'E', 'C'};
static const char RUN_MAGIC[8] = {'K', 'H', 'G', 'P', 'S', 'R', 'U', 'N'};

/* A record's checksum (analysis/khgps_io.py _checksum): the payload as little-endian 64-bit words,
   zero-padded, sum of (w_k xor k * 0x9E3779B97F4A7C15) * (2k + 1) modulo 2^64, xor the byte count.
   A kill cuts a record short (its length shows it); the checksum catches what a crash of the
   machine may leave. */
static uint64_t Checksum(const unsigned char *b, size_t n)
{
  uint64_t h = 0, k = 0, w;
  size_t   i = 0;
  for (; i + 8 <= n; i += 8, k++) {
    memcpy(&w, b + i, 8);
    h += (w ^ (k * 0x9E3779B97F4A7C15ULL)) * (2 * k + 1);
  }
  if (i < n) {
    w = 0;
    memcpy(&w, b + i, n - i);
    h += (w ^ (k * 0x9E3779B97F4A7C15ULL)) * (2 * k + 1);
  }
  return h ^ (uint64_t)n;
}

/* The log's header: the format, FILE's log_id, and the record layout (record.c's tables), so that
   a reader unpacks a record without knowing khgps's version. Ends with "end\n". */
static void LogHeader(char *h, size_t len, const char *log_id)
{
  size_t l;
  snprintf(h, len, "%s\nlog_id %s\n", LOG_MAGIC, log_id);
  l = strlen(h);
  KhgpsRecordLayout(h + l, len - l);
  l = strlen(h);
  snprintf(h + l, len - l, "\nend\n");
}

/* Write a whole buffer (EINTR retried); 0 or an errno. */
static int WriteFull(int fd, const void *buf, size_t n)
{
  const char *b = (const char *)buf;
  while (n) {
    ssize_t w = write(fd, b, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return w < 0 ? errno : ENOSPC;
    b += w, n -= (size_t)w;
  }
  return 0;
}

/* A fresh log for FILE's current log_id: written beside it and renamed over FILE.pending. */
static PetscErrorCode LogReset(void)
{
  char hdr[8192];
  int  fd, err;

  PetscFunctionBeginUser;
  LogHeader(hdr, sizeof(hdr), run.log_id);
  PetscCheck(snprintf(tmp_in_use, sizeof(tmp_in_use), "%s.XXXXXX", run.pending) < (int)sizeof(tmp_in_use), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "path too long");
  fd = mkstemp(tmp_in_use); /* a signal now removes it (tmp_set) */
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create %s: %s", tmp_in_use, strerror(errno));
  tmp_set = 1;
  (void)fchmod(fd, run.mode);
  err = WriteFull(fd, hdr, strlen(hdr));
  if (!err && fsync(fd)) err = errno;
  if (!err && rename(tmp_in_use, run.pending)) err = errno;
  if (err) {
    close(fd);
    unlink(tmp_in_use);
    tmp_set = 0;
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", run.pending, strerror(err));
  }
  tmp_set = 0;
  if (run.logfd >= 0) close(run.logfd);
  run.logfd     = fd; /* the same file, now at its name: appends go to its end */
  run.log_count = 0;
  run.log_bytes = (long)strlen(hdr);
  (void)lseek(fd, 0, SEEK_END);
  PetscFunctionReturn(0);
}

/* Scan FILE.pending: the records of a log that names FILE's log_id, up to the first one that is
   cut or damaged (a kill during its write). For each valid record: cb(ctx, kind, payload, bytes).
   Returns 0 (valid bytes in *valid, -1 if the log is absent, stale or of another layout) or 1
   with a message. */
typedef int (*LogVisitor)(void *, int, const char *, size_t);
static int LogScan(const char *path, const char *log_id, long *valid, long *nrec, LogVisitor cb, void *ctx, char *msg, size_t mlen)
{
  FILE  *f = fopen(path, "rb");
  char   expect[8192], *buf = NULL;
  size_t hl;
  long   off;

  *valid = -1;
  *nrec  = 0;
  if (!f) return 0;
  LogHeader(expect, sizeof(expect), log_id); /* the header the log must have */
  hl  = strlen(expect);
  buf = (char *)malloc(hl + 1);
  if (!buf) {
    fclose(f);
    snprintf(msg, mlen, "out of memory reading %s", path);
    return 1;
  }
  {
    size_t got = fread(buf, 1, hl, f);
    if (got != hl || memcmp(buf, expect, hl)) {                   /* stale, cut, or FILE's log in another record layout */
      const char *endid = strchr(strchr(expect, '\n') + 1, '\n'); /* the end of the log_id line */
      size_t      idl   = (size_t)(endid - expect) + 1;
      int         other = got > idl && !memcmp(buf, expect, idl) && memcmp(buf + idl, expect + idl, got - idl);
      free(buf);
      fclose(f);
      if (other) { /* realizations of this file written by a khgps with another record layout: never dropped */
        snprintf(msg, mlen, "%s holds realizations of this file in the record layout of another khgps version: finish the run with that version (or delete the log to compute them again); nothing was changed", path);
        return 1;
      }
      return 0;
    }
  }
  free(buf);
  off = (long)hl;
  for (;;) {
    char     head[16];
    uint64_t n, sum;
    char    *pl;
    int      kind;
    if (fread(head, 1, 16, f) != 16) break;
    if (!memcmp(head, REC_MAGIC, 8)) kind = 0;
    else if (!memcmp(head, RUN_MAGIC, 8)) kind = 1;
    else break;
    memcpy(&n, head + 8, 8);
    if (n > ((uint64_t)1 << 40)) break;
    pl = (char *)malloc(n ? n : 1);
    if (!pl) {
      snprintf(msg, mlen, "out of memory reading %s", path);
      fclose(f);
      return 1;
    }
    if (fread(pl, 1, n, f) != n || fread(&sum, 1, 8, f) != 8 || sum != Checksum((unsigned char *)pl, n)) {
      free(pl);
      break;
    }
    if (cb && cb(ctx, kind, pl, n)) {
      free(pl);
      fclose(f);
      return 1;
    }
    free(pl);
    off += (long)(24 + n);
    if (kind == 0) (*nrec)++;
  }
  fclose(f);
  *valid = off;
  return 0;
}

/* Append one entry to the log: one write. A kill (-9 included) cannot lose what write() handed to
   the kernel; against a crash of the machine the log is synced when SYNC_SECONDS have passed since
   the last sync (a crash loses at most those realizations: the checksum finds the cut), while FILE
   itself is always synced before it is replaced. */
#define SYNC_SECONDS 10.0
static PetscErrorCode LogAppend(int kind, const void *payload, size_t n)
{
  static PetscLogDouble last_sync = 0;
  PetscLogDouble        now;
  char                 *b;
  uint64_t              len = n, sum = Checksum((const unsigned char *)payload, n);
  int                   err;

  PetscFunctionBeginUser;
  PetscCall(PetscMalloc1(n + 24, &b));
  memcpy(b, kind ? RUN_MAGIC : REC_MAGIC, 8);
  memcpy(b + 8, &len, 8);
  memcpy(b + 16, payload, n);
  memcpy(b + 16 + n, &sum, 8);
  err = WriteFull(run.logfd, b, n + 24);
  PetscCall(PetscFree(b));
  PetscCall(PetscTime(&now));
  if (!err && now - last_sync >= SYNC_SECONDS) {
    if (fdatasync(run.logfd)) err = errno;
    last_sync = now;
  }
  if (err) {                                     /* a cut record: taken back, so that the next one follows a whole record */
    if (ftruncate(run.logfd, run.log_bytes)) { } /* best effort: the reader stops at a cut record anyway */
    (void)lseek(run.logfd, 0, SEEK_END);
    SETERRQ(PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", run.pending, strerror(err));
  }
  run.log_bytes += (long)(n + 24);
  PetscFunctionReturn(0);
}

/* ---- locks on the run file itself ---------------------------------------------------------- */

/* An open file description lock on fd (whatever name reached the file): 0, 1 held elsewhere,
   2 no locks on this file system. */
static int LockInode(int fd)
{
  struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0};
  if (fcntl(fd, F_OFD_SETLK, &l) == 0) return 0;
  return (errno == EAGAIN || errno == EACCES) ? 1 : 2;
}

/* ---- reading an existing file -------------------------------------------------------------- */

typedef struct {
  const KhgpsParams *p;
  PetscInt          *done, ndone, cap;
  long               runs;
  char              *msg;
  size_t             mlen;
} ScanCtx;

static int ScanVisit(void *vctx, int kind, const char *pl, size_t n)
{
  ScanCtx         *c = (ScanCtx *)vctx;
  const PetscReal *b = (const PetscReal *)pl;
  size_t           expect;

  if (kind == 1) {
    c->runs++;
    return 0;
  }
  if (n < sizeof(PetscReal) * (size_t)(KHGPS_RECORD_HEAD + KhgpsRecordNScalars) || n % sizeof(PetscReal)) goto bad;
  if (b[0] != (PetscReal)c->p->N || b[1] < 0 || b[1] > c->p->nev || b[3] < 0 || b[3] > b[1]) goto bad;
  expect = (size_t)(KHGPS_RECORD_HEAD + KhgpsRecordNScalars);
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    const KhgpsRecordLength l = KhgpsRecordArrays[k].length;
    expect += (size_t)(l == KHGPS_LENGTH_N ? b[0] : l == KHGPS_LENGTH_NCONV ? b[1] : b[3] * b[0]);
  }
  if (b[2] != 0) expect += (size_t)(b[0] * b[0]);
  if (expect * sizeof(PetscReal) != n) goto bad;
  if (c->ndone == c->cap) {
    c->cap  = 2 * c->cap + 64;
    c->done = (PetscInt *)realloc(c->done, sizeof(PetscInt) * (size_t)c->cap);
    if (!c->done) return 1;
  }
  c->done[c->ndone++] = (PetscInt)b[KHGPS_RECORD_HEAD]; /* the table starts with the realization */
  return 0;
bad:
  snprintf(c->msg, c->mlen, "%s.pending holds a record that is not a realization of this run's N and nev: a damaged log; it was left as it is", run.path);
  return 1;
}

/* Rank 0: read an existing run file (and its log) without changing them: a khgps file of the same
   parameters and protocol, complete realizations; list them. Any problem: msg set, *bad = 1. */
static void ReadExisting(const KhgpsParams *p, PetscInt *ndone, PetscInt **done, int *bad, char *msg, size_t len)
{
  hid_t             fid = -1, g = -1, pg = -1;
  char              fmt[64] = "", sb[256];
  int               fd, nparams;
  ScanCtx           ctx    = {p, NULL, 0, 0, 0, msg, len};
  const KhgpsParam *params = KhgpsDescribedParams(&nparams);
  const char       *out    = Short(p->output, sb, sizeof(sb));

  *ndone = 0;
  *done  = NULL;
  *bad   = 1;
  /* another program's HDF5 holds its lock on the file (h5py "r+", say): the file may be fine */
  if ((fd = open(run.path, O_RDONLY | O_CLOEXEC)) >= 0) {
    if (flock(fd, LOCK_SH | LOCK_NB) && errno == EWOULDBLOCK) {
      snprintf(msg, len, "%s is open for writing in another program (HDF5's lock on it is held); it was left as it is: close it there, then run again", out);
      close(fd);
      return;
    }
    (void)flock(fd, LOCK_UN);
    close(fd);
  }
  if (H5Fis_hdf5(run.path) <= 0 || (fid = KhgpsH5Open(run.path, PETSC_FALSE)) < 0) {
    snprintf(msg, len, "%s exists but is not a readable HDF5 file (corrupt, truncated or foreign); it was left as it is: use another -khgps_output, or -khgps_overwrite to replace it", out);
    return;
  }
  if (KhgpsH5ReadString(fid, "format", fmt, sizeof(fmt)) || strcmp(fmt, KHGPS_FORMAT)) {
    snprintf(msg, len, "%s is not a khgps run file (no format attribute " KHGPS_FORMAT "); it was left as it is", out);
    goto out;
  }
  if ((pg = H5Gopen2(fid, "/params", H5P_DEFAULT)) < 0) {
    snprintf(msg, len, "%s has no /params: not a complete khgps run file; it was left as it is", out);
    goto out;
  }
  for (int k = 0; k < nparams; k++) {
    const KhgpsParam *a = &params[k];
    long long         i = 0;
    double            r = 0;
    char              s[4096];
    int               rc;
    if (a->kind == KHGPS_PARAM_STRING) rc = KhgpsH5ReadString(pg, a->name, s, sizeof(s));
    else rc = KhgpsH5ReadNumber(pg, a->name, (PetscBool)(a->kind == KHGPS_PARAM_INT), &i, &r);
    if (rc == 1) {
      if (!strcmp(a->name, "coupling_bits")) snprintf(msg, len, "%s was written by an older khgps whose couplings were not rounded to float32 (a different realization of J); it was left as it is: use another -khgps_output", out);
      else if (!strcmp(a->name, "sparse") || !strcmp(a->name, "connectivity")) continue; /* came later: absent means dense */
      else if (p->start != KHGPS_START_THERMAL && KhgpsThermalParam(a->name)) continue;  /* came later: absent means zero or random */
      else if (a->since_protocol)
        snprintf(msg, len, "%s was written by an older khgps that did not record its protocol (%s and the other minimizer settings); resuming it could mix protocols: use another -khgps_output (runs/tail.sh starts a new one from the digest)", out, a->name);
      else snprintf(msg, len, "%s has no parameter %s: not a complete khgps run file; it was left as it is", out, a->name);
      goto out;
    }
    if (rc == 2) {
      snprintf(msg, len, "%s: /params/%s is not %s: not a khgps run file of this kind; it was left as it is", out, a->name, a->kind == KHGPS_PARAM_STRING ? "a string" : a->kind == KHGPS_PARAM_INT ? "an integer" : "a number");
      goto out;
    }
    if (a->kind == KHGPS_PARAM_INT && i != a->i) snprintf(msg, len, "%s holds a run with %s = %lld, not %lld: use another -khgps_output, or -khgps_overwrite to start over", out, a->name, i, a->i);
    else if (a->kind == KHGPS_PARAM_REAL && r != a->r) snprintf(msg, len, "%s holds a run with %s = %.15g, not %.15g: use another -khgps_output, or -khgps_overwrite to start over", out, a->name, r, a->r);
    else if (a->kind == KHGPS_PARAM_STRING && strcmp(s, a->s)) snprintf(msg, len, "%s holds a run with %s = \"%s\", not \"%s\": a file is one protocol; use another -khgps_output, or -khgps_overwrite to start over", out, a->name, s, a->s);
    else continue;
    goto out;
  }
  if (KhgpsH5ReadString(fid, "log_id", run.log_id, sizeof(run.log_id))) run.log_id[0] = 0;
  run.run_index = (PetscInt)KhgpsRunFileCount(fid, "/runs");
  if (H5Lexists(fid, "/realizations", H5P_DEFAULT) > 0) {
    H5G_info_t info;
    if ((g = H5Gopen2(fid, "/realizations", H5P_DEFAULT)) < 0 || H5Gget_info(g, &info) < 0) {
      snprintf(msg, len, "%s: cannot read /realizations (damaged file); it was left as it is", out);
      goto out;
    }
    ctx.cap  = (PetscInt)info.nlinks + 64;
    ctx.done = (PetscInt *)malloc(sizeof(PetscInt) * (size_t)ctx.cap);
    for (hsize_t k = 0; k < info.nlinks; k++) {
      char name[256], why[256];
      if (H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, k, name, sizeof(name), H5P_DEFAULT) < 0) {
        snprintf(msg, len, "%s: cannot list /realizations (damaged file); it was left as it is", out);
        goto out;
      }
      if (KhgpsRunFileCheckRealization(g, name, p->N, p->nev, &ctx.done[ctx.ndone], why, sizeof(why))) {
        snprintf(msg, len, "%s: /realizations/%s is not a complete realization (%s): a damaged file; it was left as it is", out, name, why);
        goto out;
      }
      ctx.ndone++;
    }
  }
  run.main_count = (long)ctx.ndone;
  if (run.log_id[0]) { /* the log of this incarnation of FILE, if any */
    long valid, nrec;
    if (LogScan(run.pending, run.log_id, &valid, &nrec, ScanVisit, &ctx, msg, len)) goto out;
    run.log_count = valid >= 0 ? nrec : 0;
    run.log_bytes = valid;
    run.run_index += (PetscInt)ctx.runs;
  }
  *bad = 0;
out:
  if (g >= 0) H5Gclose(g);
  if (pg >= 0) H5Gclose(pg);
  H5Fclose(fid);
  if (*bad) {
    free(ctx.done);
    return;
  }
  if (PetscMalloc1(ctx.ndone + 1, done) == 0 && ctx.ndone) memcpy(*done, ctx.done, sizeof(PetscInt) * (size_t)ctx.ndone);
  *ndone = ctx.ndone;
  free(ctx.done);
}

static int CompareInt(const void *a, const void *b)
{
  PetscInt x = *(const PetscInt *)a, y = *(const PetscInt *)b;
  return (x > y) - (x < y);
}

/* Rank 0: lock the run file itself (if it exists), named in the refusal like the lock file. */
static int LockExisting(const char *output, char *msg, size_t len)
{
  char sb[256];
  for (int tries = 0; tries < 20; tries++) {
    struct stat a, b;
    int         fd = open(run.path, O_RDONLY | O_CLOEXEC), r;
    if (fd < 0) return errno == ENOENT ? 0 : (snprintf(msg, len, "cannot read output file %s: %s", Short(output, sb, sizeof(sb)), strerror(errno)), 1);
    r = LockInode(fd);
    if (r == 1) {
      snprintf(msg, len, "%s is being written by another run (it holds the file's lock, through another name of the same file); it was left to it: wait for that run to end, or use another -khgps_output", Short(output, sb, sizeof(sb)));
      close(fd);
      return 1;
    }
    if (fstat(fd, &a) == 0 && stat(run.path, &b) == 0 && (a.st_ino != b.st_ino || a.st_dev != b.st_dev)) { /* replaced meanwhile */
      close(fd);
      continue;
    }
    if (run.mainfd >= 0) close(run.mainfd);
    run.mainfd = fd;
    return 0;
  }
  snprintf(msg, len, "cannot lock output file %s: it keeps being replaced", Short(output, sb, sizeof(sb)));
  return 1;
}

/* Before any work, on all ranks: refuse an output that cannot be written, that another run is
   writing, that is write-protected or not a regular file, or an existing file that is not a
   complete khgps run of the same parameters and protocol (unless -khgps_overwrite: start over),
   and return the realizations of [first, first + realizations) that the file does not hold yet.
   Rank 0 keeps the file's locks from here to its exit. */
PetscErrorCode KhgpsPrepareOutput(MPI_Comm comm, KhgpsParams *p, PetscInt *ntodo, PetscInt **todo)
{
  PetscMPIInt rank;
  int         bad                               = 0;
  char        msg[3 * PETSC_MAX_PATH_LEN + 512] = "", part[2 * PETSC_MAX_PATH_LEN], sb[256];
  PetscInt    ndone = 0, *done = NULL, nin = 0;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(comm, &rank));
  if (p->output[0] && rank == 0) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* HDF5's own error stack would bury our one line */
    bad = ResolveOutput(p->output, msg, sizeof(msg));
    if (!bad) bad = LockOutput(p->output, msg, sizeof(msg));
    if (!bad) bad = LockExisting(p->output, msg, sizeof(msg));
    if (!bad) snprintf(run.pending, sizeof(run.pending), "%s.pending", run.path);
    if (!bad && !p->overwrite && run.mainfd >= 0) ReadExisting(p, &ndone, &done, &bad, msg, sizeof(msg));
    if (!bad) { /* the temporary files can be made */
      int fd = MakeTemp(part, sizeof(part));
      if (fd < 0) {
        bad = 1;
        snprintf(msg, sizeof(msg), "cannot write output file %s: cannot create a file in its folder: %s", Short(p->output, sb, sizeof(sb)), strerror(errno));
      } else {
        close(fd);
        unlink(part);
      }
    }
  }
  PetscCallMPI(MPI_Bcast(&bad, 1, MPI_INT, 0, comm));
  PetscCallMPI(MPI_Bcast(msg, sizeof(msg), MPI_CHAR, 0, comm));
  PetscCheck(!bad, comm, PETSC_ERR_USER_INPUT, "%s", msg);
  PetscCallMPI(MPI_Bcast(&ndone, 1, MPIU_INT, 0, comm));
  if (rank) PetscCall(PetscMalloc1(ndone + 1, &done));
  if (ndone) PetscCallMPI(MPI_Bcast(done, (PetscMPIInt)ndone, MPIU_INT, 0, comm));
  if (ndone) qsort(done, (size_t)ndone, sizeof(PetscInt), CompareInt);
  PetscCall(PetscMalloc1(p->realizations + 1, todo));
  *ntodo = 0;
  for (PetscInt k = p->first, d = 0; k < p->first + p->realizations; k++) {
    while (d < ndone && done[d] < k) d++;
    if (d < ndone && done[d] == k) nin++;
    else (*todo)[(*ntodo)++] = k;
  }
  if (ndone) PetscCall(PetscPrintf(comm, "khgps: resuming %s: it holds %" PetscInt_FMT " realization(s), %" PetscInt_FMT " of them in this run's range\n", p->output, ndone, nin));
  PetscCall(PetscFree(done));
  PetscFunctionReturn(0);
}

/* ---- appends and the fold ------------------------------------------------------------------ */

/* Copy file `from` into the open descriptor fd (the temporary file `to`); *size: its bytes. */
static PetscErrorCode CopyFile(const char *from, int fd, const char *to, off_t *size)
{
  FILE  *in;
  char  *buf;
  size_t n;
  int    err = 0;

  PetscFunctionBeginUser;
  *size = 0;
  in    = fopen(from, "rb");
  PetscCheck(in, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot read %s: %s", from, strerror(errno));
  PetscCall(PetscMalloc1(1 << 22, &buf));
  while (!err && (n = fread(buf, 1, 1 << 22, in)) > 0) {
    err = WriteFull(fd, buf, n);
    if (!err) *size += (off_t)n;
  }
  if (!err && ferror(in)) err = EIO;
  fclose(in);
  PetscCall(PetscFree(buf));
  PetscCheck(!err, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "copying %s to %s failed: %s", from, to, strerror(err));
  PetscFunctionReturn(0);
}

/* Reserve the disk space of a file of `bytes` (fd): a full disk shows here, before HDF5 writes. */
static PetscErrorCode Reserve(int fd, off_t bytes, const char *part)
{
  int err = posix_fallocate(fd, 0, bytes);

  PetscFunctionBeginUser;
  if (err == EINVAL || err == EOPNOTSUPP) err = 0;
  PetscCheck(!err, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "no room for %.3g bytes in %s (%s)", (double)bytes, part, strerror(err));
  PetscFunctionReturn(0);
}

/* fsync a file or folder; a file that cannot be synced is an error (its data may not be on disk). */
static PetscErrorCode SyncPath(const char *path, PetscBool must)
{
  int fd = open(path, O_RDONLY), ok;

  PetscFunctionBeginUser;
  ok = fd >= 0 && fsync(fd) == 0;
  if (fd >= 0) close(fd);
  PetscCheck(ok || !must, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot sync %s: %s", path, strerror(errno));
  PetscFunctionReturn(0);
}

/* A new log_id: FILE's incarnation, which its log names. */
static void NewLogId(void)
{
  uint64_t r  = 0;
  int      fd = open("/dev/urandom", O_RDONLY);
  if (fd < 0 || read(fd, &r, sizeof(r)) != (ssize_t)sizeof(r)) r = (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid() << 32 ^ (uint64_t)clock();
  if (fd >= 0) close(fd);
  snprintf(run.log_id, sizeof(run.log_id), "%016llx", (unsigned long long)r);
}

typedef struct {
  hid_t          f;
  PetscInt      *present; /* realizations already in FILE (sorted) */
  PetscInt       npresent;
  PetscInt       run;
  PetscErrorCode err;
} FoldCtx;

static int FoldVisit(void *vctx, int kind, const char *pl, size_t n)
{
  FoldCtx *c = (FoldCtx *)vctx;
  if (kind == 1) {
    char *text = (char *)malloc(n + 1);
    memcpy(text, pl, n);
    text[n] = 0;
    c->err  = KhgpsRunFileWriteRun(c->f, c->run++, text);
    free(text);
  } else {
    KhgpsRecord rec;
    PetscReal  *b = (PetscReal *)malloc(n);
    memcpy(b, pl, n); /* aligned */
    c->err = KhgpsRecordUnpack(b, &rec);
    free(b);
    if (!c->err) {
      char name[64];
      snprintf(name, sizeof(name), "/realizations/%06" PetscInt_FMT, rec.realization);
      if (H5Lexists(c->f, "/realizations", H5P_DEFAULT) <= 0 || H5Lexists(c->f, name, H5P_DEFAULT) <= 0) c->err = KhgpsRunFileWriteRecord(c->f, &rec);
      (void)KhgpsRecordDestroy(&rec);
    }
  }
  return c->err ? 1 : 0;
}

/* Write FILE anew into the temporary file part (descriptor fd): FILE's copy (or a new file with
   /params), this run's description if not logged yet, the log's entries, the records `recs`, a new
   log_id. The HDF5 file is closed whatever happens (run.broken if HDF5 cannot). */
static PetscErrorCode WriteNew(const KhgpsParams *p, PetscInt n, KhgpsRecord *recs, const char *part, int fd, PetscBool extend)
{
  hid_t             f    = -1;
  PetscErrorCode    ierr = 0;
  off_t             size = 0, more = 1 << 16;
  FoldCtx           c = {0};
  int               nparams;
  const KhgpsParam *params = KhgpsDescribedParams(&nparams);

  PetscFunctionBeginUser;
  for (PetscInt q = 0; q < n; q++) more += (off_t)(8 * (2 * recs[q].N + 3 * recs[q].nconv + (recs[q].J ? (double)recs[q].N * recs[q].N : 0)) + 4 * (double)recs[q].nmodes * recs[q].N + (1 << 14));
  if (extend) more += 2 * (off_t)run.log_bytes;
  ierr = extend ? CopyFile(run.path, fd, part, &size) : 0;
  if (!ierr) ierr = Reserve(fd, size + more + more / 8, part);
  if (!ierr && !extend && ftruncate(fd, 0)) ierr = PETSC_ERR_FILE_WRITE;
  PetscCall(ierr);
  f = extend ? KhgpsH5Open(part, PETSC_TRUE) : KhgpsH5Create(part);
  PetscCheck(f >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "HDF5 cannot open %s", part);
  if (!extend) {
    ierr = KhgpsRunFileWriteParams(f, params, nparams);
    if (!ierr) ierr = KhgpsH5WriteString(f, "format", KHGPS_FORMAT);
  }
  if (!ierr && extend && run.log_id[0]) { /* the log's entries, in order */
    long valid, nrec;
    char lmsg[512];
    c.f   = f;
    c.run = (PetscInt)KhgpsRunFileCount(f, "/runs");
    if (LogScan(run.pending, run.log_id, &valid, &nrec, FoldVisit, &c, lmsg, sizeof(lmsg))) ierr = c.err ? c.err : PETSC_ERR_FILE_READ;
  }
  if (!ierr && !run.run_logged) ierr = KhgpsRunFileWriteRun(f, run.run_index, KhgpsDescribedRun());
  for (PetscInt q = 0; q < n && !ierr; q++) ierr = KhgpsRunFileWriteRecord(f, &recs[q]);
  if (!ierr) {
    NewLogId();
    ierr = KhgpsH5WriteString(f, "log_id", run.log_id);
  }
  if (H5Fclose(f) < 0) {
    ssize_t nopen = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (nopen > 0) { /* whatever HDF5 still holds open: closed, so that nothing touches it later */
      hid_t *ids = (hid_t *)malloc((size_t)nopen * sizeof(hid_t));
      if (ids) {
        nopen = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_ALL, (size_t)nopen, ids);
        for (ssize_t k = 0; k < nopen; k++) {
          H5I_type_t t = H5Iget_type(ids[k]);
          if (t == H5I_DATASET) H5Dclose(ids[k]);
          else if (t == H5I_GROUP) H5Gclose(ids[k]);
          else if (t == H5I_ATTR) H5Aclose(ids[k]);
          else if (t == H5I_DATATYPE) H5Tclose(ids[k]);
        }
        nopen = H5Fget_obj_ids(H5F_OBJ_ALL, H5F_OBJ_FILE, (size_t)nopen, ids);
        for (ssize_t k = 0; k < nopen; k++) H5Fclose(ids[k]);
        free(ids);
      }
    }
    run.broken = (PetscBool)(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_FILE) > 0);
    if (!ierr) ierr = PETSC_ERR_FILE_WRITE;
  }
  PetscCall(ierr);
  PetscFunctionReturn(0);
}

/* Rank 0: FILE replaced by a new version with the log's entries and `recs` (n of them) added:
   a temporary file beside it, locked, synced and renamed over it; then a fresh log. A failure
   (a full disk, say) removes the temporary file and leaves FILE and its log as they were. */
static PetscErrorCode Replace(const KhgpsParams *p, PetscInt n, KhgpsRecord *recs)
{
  PetscBool      extend = (PetscBool)(run.mainfd >= 0 && !(p->overwrite && !run.appended));
  PetscErrorCode ierr;
  int            fd;
  char           old_id[40];

  PetscFunctionBeginUser;
  PetscCall(PetscStrncpy(old_id, run.log_id, sizeof(old_id)));
  fd = MakeTemp(tmp_in_use, sizeof(tmp_in_use));
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot create a temporary file in %s: %s", run.dir, strerror(errno));
  tmp_set = 1;
  LockNote(tmp_in_use); /* a killed run's temporary file is the next holder's to remove */
  (void)LockInode(fd);  /* the new file is locked before it gets FILE's name */
  ierr = WriteNew(p, n, recs, tmp_in_use, fd, extend);
  if (!ierr) ierr = SyncPath(tmp_in_use, PETSC_TRUE);
  if (!ierr && rename(tmp_in_use, run.path)) ierr = PETSC_ERR_FILE_WRITE;
  if (ierr) {
    (void)unlink(tmp_in_use);
    tmp_set = 0;
    close(fd);
    PetscCall(PetscStrncpy(run.log_id, old_id, sizeof(run.log_id)));
    LockNote(NULL);
    PetscCall(ierr);
  }
  tmp_set = 0;
  LockNote(NULL);
  if (run.mainfd >= 0) close(run.mainfd);
  run.mainfd = fd;
  PetscCall(SyncPath(run.dir, PETSC_FALSE));
  run.main_count = (extend ? run.main_count + run.log_count : 0) + n;
  run.run_logged = PETSC_TRUE;
  run.appended   = PETSC_TRUE;
  PetscCall(LogReset()); /* a kill before this: the old log names the old log_id, and is stale */
  PetscFunctionReturn(0);
}

/* An HDF5 file that a failed append could not close: HDF5 would close it again at MPI_Finalize
   and crash there, so main leaves without finalizing. */
PetscBool KhgpsOutputBroken(void)
{
  return run.broken;
}

static volatile sig_atomic_t written_count; /* realizations this run has added (for the stop line) */

/* Rank 0: add n realizations. A new file (or -khgps_overwrite's first append) is written whole;
   otherwise the records go to the log, which is folded into FILE when it holds FOLD_RATIO times
   FILE's realizations. On a failure the file and its log keep what they held. */
PetscErrorCode KhgpsAppend(const KhgpsParams *p, PetscInt n, KhgpsRecord *recs, PetscReal *seconds)
{
  PetscLogDouble t0, t1;

  PetscFunctionBeginUser;
  PetscCall(PetscTime(&t0));
  for (PetscInt q = 0; q < n; q++) recs[q].run = run.run_index;
  if (run.mainfd < 0 || (p->overwrite && !run.appended) || !run.log_id[0]) PetscCall(Replace(p, n, recs));
  else {
    if (run.logfd < 0) { /* the log of FILE's log_id, cut back to its last whole record */
      if (run.log_bytes <= 0) PetscCall(LogReset());
      else {
        run.logfd = open(run.pending, O_WRONLY | O_CLOEXEC);
        PetscCheck(run.logfd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "cannot open %s: %s", run.pending, strerror(errno));
        PetscCheck(ftruncate(run.logfd, run.log_bytes) == 0, PETSC_COMM_SELF, PETSC_ERR_FILE_WRITE, "cannot write %s: %s", run.pending, strerror(errno));
        (void)lseek(run.logfd, 0, SEEK_END);
      }
    }
    if (!run.run_logged) {
      PetscCall(LogAppend(1, KhgpsDescribedRun(), strlen(KhgpsDescribedRun())));
      run.run_logged = PETSC_TRUE;
    }
    for (PetscInt q = 0; q < n; q++) {
      PetscInt   len;
      PetscReal *buf;
      PetscCall(KhgpsRecordPack(&recs[q], &len, &buf));
      PetscCall(LogAppend(0, buf, sizeof(PetscReal) * (size_t)len));
      PetscCall(PetscFree(buf));
      run.log_count++;
    }
    if (run.log_count >= FOLD_RATIO * PetscMax(run.main_count, 1)) PetscCall(Replace(p, 0, NULL));
  }
  written_count += (sig_atomic_t)n;
  PetscCall(PetscTime(&t1));
  *seconds = t1 - t0;
  PetscFunctionReturn(0);
}

/* Rank 0, at the end of a run: the log folded into FILE, so that FILE alone holds everything. */
PetscErrorCode KhgpsFinishOutput(const KhgpsParams *p)
{
  PetscFunctionBeginUser;
  if (p->output[0] && run.mainfd >= 0 && run.log_count > 0) PetscCall(Replace(p, 0, NULL));
  if (p->output[0] && run.logfd >= 0 && run.log_count == 0) { /* an empty log is of no use to anyone */
    close(run.logfd);
    run.logfd = -1;
    (void)unlink(run.pending);
  }
  PetscFunctionReturn(0);
}

/* ---- a clean stop on a signal -------------------------------------------------------------- */

static volatile sig_atomic_t total_count = -1; /* realizations this run computes (-1: before work) */
static char                  stop_output[PETSC_MAX_PATH_LEN];
static int                   stop_rank;

static size_t Append(char *b, size_t at, size_t cap, const char *s)
{
  while (*s && at + 1 < cap) b[at++] = *s++;
  return at;
}

static size_t AppendInt(char *b, size_t at, size_t cap, long v)
{
  char t[24];
  int  n = 0;
  if (v < 0) {
    at = Append(b, at, cap, "-");
    v  = -v;
  }
  do t[n++] = (char)('0' + v % 10);
  while ((v /= 10) && n < 23);
  while (n && at + 1 < cap) b[at++] = t[--n];
  return at;
}

/* SIGTERM (a batch system's time limit), SIGINT, SIGHUP, SIGQUIT: the temporary file in use (if
   any) is removed, one line says what the file holds, exit 128 + the signal. Everything on disk
   is whole at any moment (a record cut in the log is ignored), so nothing else is needed. */
static void StopHandler(int sig)
{
  char        b[PETSC_MAX_PATH_LEN + 256];
  size_t      at   = 0;
  const char *name = sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : sig == SIGHUP ? "SIGHUP" : "SIGQUIT";

  if (tmp_set) (void)unlink(tmp_in_use);
  if (stop_rank == 0) {
    at = Append(b, at, sizeof(b), "khgps: stopped by ");
    at = Append(b, at, sizeof(b), name);
    if (total_count < 0) {
      at = Append(b, at, sizeof(b), " before any work");
      if (stop_output[0]) at = Append(b, at, sizeof(b), "; "), at = Append(b, at, sizeof(b), stop_output), at = Append(b, at, sizeof(b), " is as it was");
    } else {
      at = Append(b, at, sizeof(b), " after ");
      at = AppendInt(b, at, sizeof(b), (long)written_count);
      at = Append(b, at, sizeof(b), " of ");
      at = AppendInt(b, at, sizeof(b), (long)total_count);
      at = Append(b, at, sizeof(b), " realizations");
      if (stop_output[0] && written_count == 0) {
        at = Append(b, at, sizeof(b), "; none was finished, ");
        at = Append(b, at, sizeof(b), stop_output);
        at = Append(b, at, sizeof(b), " is as it was; run again to start");
      } else if (stop_output[0]) {
        at = Append(b, at, sizeof(b), "; ");
        at = Append(b, at, sizeof(b), stop_output);
        at = Append(b, at, sizeof(b), " holds them; run again to continue");
      }
    }
    at = Append(b, at, sizeof(b), "\n");
    (void)!write(2, b, at);
  }
  _exit(128 + sig);
}

/* Install the stop handlers (after PETSc's, which they replace for these signals). */
PetscErrorCode KhgpsSignalsInstall(const char *output)
{
  struct sigaction sa;
  PetscMPIInt      rank;

  PetscFunctionBeginUser;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  stop_rank = rank;
  if (output) PetscCall(PetscStrncpy(stop_output, output, sizeof(stop_output)));
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = StopHandler;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGHUP);
  sigaddset(&sa.sa_mask, SIGQUIT);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGQUIT, &sa, NULL);
  PetscFunctionReturn(0);
}

/* The number of realizations this run computes: the stop line counts from here. */
void KhgpsSignalsWork(PetscInt total)
{
  total_count = (sig_atomic_t)total;
}
