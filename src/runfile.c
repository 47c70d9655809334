/* runfile.c: the HDF5 layout of a run file (README "Output"), written and read with HDF5's default
   (sec2) driver from one process: no MPI-IO, so that any path the OS accepts works. The layout:
   root attributes (format, the latest run's provenance, log_id), /params (the physics and the
   protocol, compared on resume), /runs/NNNN (each run that added realizations: what does not change
   results beyond rounding), /realizations/NNNNNN (one group per realization, fields of record.c). */
#include <petscsys.h>
#include <hdf5.h>
#include <string.h>
#include <stdlib.h>
#include "khgps_result.h"
#include "khgps_runfile.h"

#define H5CALL(call) \
  do { \
    if ((call) < 0) SETERRQ(PETSC_COMM_SELF, PETSC_ERR_LIB, "HDF5 call failed: %s", #call); \
  } while (0)

/* File access for khgps's own opens: HDF5's flock off (khgps holds its own lock on the run file). */
static hid_t Fapl(void)
{
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl >= 0) (void)H5Pset_file_locking(fapl, 0, 1);
  return fapl;
}

hid_t KhgpsH5Open(const char *path, PetscBool write)
{
  hid_t fapl = Fapl(), f;
  f          = H5Fopen(path, write ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl);
  H5Pclose(fapl);
  return f;
}

hid_t KhgpsH5Create(const char *path)
{
  hid_t fapl = Fapl(), f;
  f          = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  H5Pclose(fapl);
  return f;
}

/* Attributes of an object, replaced if present. */
static PetscErrorCode AttrDelete(hid_t obj, const char *name)
{
  PetscFunctionBeginUser;
  if (H5Aexists(obj, name) > 0) H5CALL(H5Adelete(obj, name));
  PetscFunctionReturn(0);
}

static PetscErrorCode AttrWrite(hid_t obj, const char *name, hid_t type, const void *v)
{
  hid_t sp, a;

  PetscFunctionBeginUser;
  PetscCall(AttrDelete(obj, name));
  H5CALL(sp = H5Screate(H5S_SCALAR));
  H5CALL(a = H5Acreate2(obj, name, type, sp, H5P_DEFAULT, H5P_DEFAULT));
  H5CALL(H5Awrite(a, type, v));
  H5CALL(H5Aclose(a));
  H5CALL(H5Sclose(sp));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsH5WriteString(hid_t obj, const char *name, const char *value)
{
  hid_t t;

  PetscFunctionBeginUser;
  H5CALL(t = H5Tcopy(H5T_C_S1));
  H5CALL(H5Tset_size(t, strlen(value) + 1));
  H5CALL(H5Tset_strpad(t, H5T_STR_NULLTERM));
  PetscCall(AttrWrite(obj, name, t, value));
  H5CALL(H5Tclose(t));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsH5WriteInt(hid_t obj, const char *name, long long v)
{
  PetscFunctionBeginUser;
  PetscCall(AttrWrite(obj, name, H5T_NATIVE_LLONG, &v));
  PetscFunctionReturn(0);
}

PetscErrorCode KhgpsH5WriteReal(hid_t obj, const char *name, double v)
{
  PetscFunctionBeginUser;
  PetscCall(AttrWrite(obj, name, H5T_NATIVE_DOUBLE, &v));
  PetscFunctionReturn(0);
}

/* A string attribute into buf: 0, 1 if absent, 2 if not a string (or too long). */
int KhgpsH5ReadString(hid_t obj, const char *name, char *buf, size_t len)
{
  hid_t a, t;
  int   r = 2;

  buf[0] = 0;
  if (H5Aexists(obj, name) <= 0) return 1;
  if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return 2;
  t = H5Aget_type(a);
  if (t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t) && H5Tget_size(t) < len) {
    memset(buf, 0, len);
    if (H5Aread(a, t, buf) >= 0) r = 0;
  } else if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t)) {
    char *s  = NULL;
    hid_t mt = H5Tcopy(H5T_C_S1);
    H5Tset_size(mt, H5T_VARIABLE);
    if (H5Aread(a, mt, &s) >= 0 && s && strlen(s) < len) {
      strcpy(buf, s);
      r = 0;
    }
    if (s) H5free_memory(s);
    H5Tclose(mt);
  }
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return r;
}

/* A numeric attribute: 0, 1 if absent, 2 if of another class (a string, say) than asked. */
int KhgpsH5ReadNumber(hid_t obj, const char *name, PetscBool isint, long long *i, double *r)
{
  hid_t       a, t;
  H5T_class_t c;
  int         ok;

  if (H5Aexists(obj, name) <= 0) return 1;
  if ((a = H5Aopen(obj, name, H5P_DEFAULT)) < 0) return 2;
  t  = H5Aget_type(a);
  c  = t >= 0 ? H5Tget_class(t) : H5T_NO_CLASS;
  ok = isint ? (c == H5T_INTEGER && H5Aread(a, H5T_NATIVE_LLONG, i) >= 0) : ((c == H5T_FLOAT || c == H5T_INTEGER) && H5Aread(a, H5T_NATIVE_DOUBLE, r) >= 0);
  if (t >= 0) H5Tclose(t);
  H5Aclose(a);
  return ok ? 0 : 2;
}

/* A group, made with its parents if missing. */
static hid_t GroupOpenOrCreate(hid_t f, const char *path)
{
  hid_t lcpl, g;
  if (H5Lexists(f, path, H5P_DEFAULT) > 0) return H5Gopen2(f, path, H5P_DEFAULT);
  lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  g = H5Gcreate2(f, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
  H5Pclose(lcpl);
  return g;
}

/* A dataset of doubles from a, stored as float64 or (float32) as float32. */
static PetscErrorCode WriteDataset(hid_t g, const char *name, int rank, hsize_t n0, hsize_t n1, const PetscReal *a, PetscBool float32)
{
  hsize_t dims[2] = {n0, n1};
  hid_t   sp, d;

  PetscFunctionBeginUser;
  if (!n0) PetscFunctionReturn(0);
  H5CALL(sp = H5Screate_simple(rank, dims, NULL));
  H5CALL(d = H5Dcreate2(g, name, float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  H5CALL(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a));
  H5CALL(H5Dclose(d));
  H5CALL(H5Sclose(sp));
  PetscFunctionReturn(0);
}

/* /params: the physics and the protocol (KhgpsParamTable). */
PetscErrorCode KhgpsRunFileWriteParams(hid_t f, const KhgpsParam *a, int n)
{
  hid_t g;

  PetscFunctionBeginUser;
  H5CALL(g = GroupOpenOrCreate(f, "/params"));
  for (int k = 0; k < n; k++) {
    if (a[k].kind == KHGPS_PARAM_INT) PetscCall(KhgpsH5WriteInt(g, a[k].name, a[k].i));
    else if (a[k].kind == KHGPS_PARAM_REAL) PetscCall(KhgpsH5WriteReal(g, a[k].name, a[k].r));
    else PetscCall(KhgpsH5WriteString(g, a[k].name, a[k].s));
  }
  H5CALL(H5Gclose(g));
  PetscFunctionReturn(0);
}

/* A run's description (key=value lines, the values strings) as attributes of an object. */
PetscErrorCode KhgpsRunFileWriteDescription(hid_t obj, const char *text)
{
  const char *line = text;

  PetscFunctionBeginUser;
  while (line && *line) {
    const char *eq = strchr(line, '='), *nl = strchr(line, '\n');
    size_t      kl, vl;
    char        key[128], *val;
    if (!nl) nl = line + strlen(line);
    if (eq && eq < nl) {
      kl = (size_t)(eq - line);
      vl = (size_t)(nl - eq - 1);
      if (kl < sizeof(key)) {
        memcpy(key, line, kl);
        key[kl] = 0;
        PetscCall(PetscMalloc1(vl + 1, &val));
        memcpy(val, eq + 1, vl);
        val[vl] = 0;
        { /* an integer value is written as one */
          char     *end;
          long long iv = strtoll(val, &end, 10);
          if (vl && !*end && (val[0] == '-' || (val[0] >= '0' && val[0] <= '9'))) PetscCall(KhgpsH5WriteInt(obj, key, iv));
          else PetscCall(KhgpsH5WriteString(obj, key, val));
        }
        PetscCall(PetscFree(val));
      }
    }
    line = *nl ? nl + 1 : nl;
  }
  PetscFunctionReturn(0);
}

/* /runs/NNNN with the run's description; the root's provenance is the latest run's. */
PetscErrorCode KhgpsRunFileWriteRun(hid_t f, PetscInt run, const char *text)
{
  char  name[64];
  hid_t g;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(name, sizeof(name), "/runs/%04" PetscInt_FMT, run));
  H5CALL(g = GroupOpenOrCreate(f, name));
  PetscCall(KhgpsRunFileWriteDescription(g, text));
  H5CALL(H5Gclose(g));
  PetscCall(KhgpsRunFileWriteDescription(f, text));
  PetscFunctionReturn(0);
}

/* One realization's group /realizations/NNNNNN: datasets and scalar attributes. */
PetscErrorCode KhgpsRunFileWriteRecord(hid_t f, const KhgpsRecord *c)
{
  char  group[64];
  hid_t g;

  PetscFunctionBeginUser;
  PetscCall(PetscSNPrintf(group, sizeof(group), "/realizations/%06" PetscInt_FMT, c->realization));
  H5CALL(g = GroupOpenOrCreate(f, group));
  for (int k = 0; k < KhgpsRecordNArrays; k++) {
    PetscInt                n;
    const KhgpsRecordArray *f = &KhgpsRecordArrays[k];
    PetscReal              *a = KhgpsRecordArrayGet(c, f, &n);
    if (f->length == KHGPS_LENGTH_MODES) PetscCall(WriteDataset(g, f->name, 2, (hsize_t)c->nmodes, (hsize_t)c->N, a, f->float32));
    else PetscCall(WriteDataset(g, f->name, 1, (hsize_t)n, 0, a, f->float32));
  }
  if (c->J) PetscCall(WriteDataset(g, "J", 2, (hsize_t)c->N, (hsize_t)c->N, c->J, PETSC_FALSE));
  PetscCall(KhgpsH5WriteString(g, "status_name", KhgpsStatusNames[c->status]));
  PetscCall(KhgpsH5WriteString(g, "tao_reason_name", TaoConvergedReasons[c->tao_reason]));
  for (int k = 0; k < KhgpsRecordNScalars; k++) { /* the table ends with status: it marks the group complete */
    const KhgpsRecordScalar *s = &KhgpsRecordScalars[k];
    const void              *a = (const char *)c + s->offset;
    if (s->names) PetscCall(KhgpsH5WriteString(g, s->name, s->names[*(const PetscInt *)a]));
    else if (s->isint) PetscCall(KhgpsH5WriteInt(g, s->name, (long long)*(const PetscInt *)a));
    else PetscCall(KhgpsH5WriteReal(g, s->name, (double)*(const PetscReal *)a));
  }
  H5CALL(H5Gclose(g));
  PetscFunctionReturn(0);
}

/* A dataset of group g: 0 as the layout has it (float, rank 1 [n0] or rank 2 [n0, n1]), 1 absent,
   2 of another shape or type. */
static int DatasetShape(hid_t g, const char *name, int rank, hsize_t n0, hsize_t n1)
{
  hid_t   d, sp, t;
  hsize_t dims[2] = {0, 0};
  int     r, ok;

  if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return 1;
  if ((d = H5Dopen2(g, name, H5P_DEFAULT)) < 0) return 2;
  sp = H5Dget_space(d);
  t  = H5Dget_type(d);
  r  = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  ok = r == rank && H5Sget_simple_extent_dims(sp, dims, NULL) == r && dims[0] == n0 && (rank < 2 || dims[1] == n1) && t >= 0 && H5Tget_class(t) == H5T_FLOAT;
  if (t >= 0) H5Tclose(t);
  if (sp >= 0) H5Sclose(sp);
  H5Dclose(d);
  return ok ? 0 : 2;
}

/* Realization group `name` of /realizations (rg) against the layout: its six-digit index as name,
   every attribute, kappa and x of length N, per-pair datasets of length nconv (in [0, nev]), J N x N
   if there. 0 and *idx, or 1 and why. */
int KhgpsRunFileCheckRealization(hid_t rg, const char *name, PetscInt N, PetscInt nev, PetscInt *idx, char *why, size_t len)
{
  static const char *const names[] = {"status_name", "tao_reason_name"};
  long long                status, real, nconv;
  double                   dummy;
  hid_t                    g;
  int                      bad = 1, r;

  if (strlen(name) != 6 || strspn(name, "0123456789") != 6) {
    snprintf(why, len, "its name is not a six-digit realization index");
    return 1;
  }
  *idx = (PetscInt)strtol(name, NULL, 10);
  if ((g = H5Gopen2(rg, name, H5P_DEFAULT)) < 0) {
    snprintf(why, len, "not a group");
    return 1;
  }
  for (int k = 0; k < KhgpsRecordNScalars + 2; k++) {
    const char *a = k < KhgpsRecordNScalars ? KhgpsRecordScalars[k].name : names[k - KhgpsRecordNScalars];
    if (k < KhgpsRecordNScalars && KhgpsRecordScalars[k].optional) continue; /* files of an older khgps lack it */
    if (H5Aexists(g, a) <= 0) {
      snprintf(why, len, "no attribute %s", a);
      goto out;
    }
  }
  if (KhgpsH5ReadNumber(g, "status", PETSC_TRUE, &status, &dummy) || status < 0 || status > 2) {
    snprintf(why, len, "status is not 0, 1 or 2");
    goto out;
  }
  if (KhgpsH5ReadNumber(g, "realization", PETSC_TRUE, &real, &dummy) || real != *idx) {
    snprintf(why, len, "its realization attribute is not %" PetscInt_FMT, *idx);
    goto out;
  }
  if (KhgpsH5ReadNumber(g, "nconv", PETSC_TRUE, &nconv, &dummy) || nconv < 0 || nconv > nev) {
    snprintf(why, len, "nconv is not in [0, nev] = [0, %" PetscInt_FMT "]", nev);
    goto out;
  }
  for (int k = 0; k < KhgpsRecordNArrays; k++) { /* an empty per-pair dataset may be absent */
    const KhgpsRecordArray *f = &KhgpsRecordArrays[k];
    const long long         n = f->length == KHGPS_LENGTH_NCONV ? nconv : (long long)N;
    if (f->length == KHGPS_LENGTH_MODES) { /* nmodes x N, nmodes in [1, nconv], or absent */
      r = H5Lexists(g, f->name, H5P_DEFAULT) > 0 ? 2 : 0;
      for (long long m = 1; r == 2 && m <= nconv; m++) r = DatasetShape(g, f->name, 2, (hsize_t)m, (hsize_t)N) ? 2 : 0;
      if (r) {
        snprintf(why, len, "dataset %s is not nmodes x N reals with nmodes <= nconv = %lld", f->name, nconv);
        goto out;
      }
      continue;
    }
    r = DatasetShape(g, f->name, 1, (hsize_t)n, 0);
    if (r == 2 || (r == 1 && (n > 0 && !f->optional))) {
      if (r == 1) snprintf(why, len, "no dataset %s", f->name);
      else snprintf(why, len, "dataset %s is not %s = %lld reals", f->name, KhgpsRecordLengthNames[f->length], n);
      goto out;
    }
  }
  if (DatasetShape(g, "J", 2, (hsize_t)N, (hsize_t)N) == 2) {
    snprintf(why, len, "dataset J is not N x N");
    goto out;
  }
  bad = 0;
out:
  H5Gclose(g);
  return bad;
}

/* The number of groups under `path` (0 if absent), or -1 if it cannot be read. */
long KhgpsRunFileCount(hid_t f, const char *path)
{
  hid_t      g;
  H5G_info_t info;
  long       n;

  if (H5Lexists(f, path, H5P_DEFAULT) <= 0) return 0;
  if ((g = H5Gopen2(f, path, H5P_DEFAULT)) < 0) return -1;
  n = H5Gget_info(g, &info) < 0 ? -1 : (long)info.nlinks;
  H5Gclose(g);
  return n;
}
