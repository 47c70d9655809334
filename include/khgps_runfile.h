/* khgps_runfile.h: the run file's HDF5 layout (runfile.c), private to the output files (outfile.c,
   runfile.c): attribute helpers, the /params table, runs and realization groups. */
#ifndef KHGPS_RUNFILE_H
#define KHGPS_RUNFILE_H
#include <hdf5.h>
#include "khgps_result.h"

/* One attribute of /params: the physics and the protocol, compared on resume. */
typedef enum {
  KHGPS_PARAM_INT,
  KHGPS_PARAM_REAL,
  KHGPS_PARAM_STRING
} KhgpsParamKind;
typedef struct {
  const char    *name;
  KhgpsParamKind kind;
  long long      i;
  double         r;
  const char    *s;
  PetscBool      since_protocol; /* absent from files written before the protocol was recorded */
} KhgpsParam;

hid_t          KhgpsH5Open(const char *, PetscBool);
hid_t          KhgpsH5Create(const char *);
PetscErrorCode KhgpsH5WriteString(hid_t, const char *, const char *);
PetscErrorCode KhgpsH5WriteInt(hid_t, const char *, long long);
PetscErrorCode KhgpsH5WriteReal(hid_t, const char *, double);
int            KhgpsH5ReadString(hid_t, const char *, char *, size_t);
int            KhgpsH5ReadNumber(hid_t, const char *, PetscBool, long long *, double *);
PetscErrorCode KhgpsRunFileWriteParams(hid_t, const KhgpsParam *, int);
PetscErrorCode KhgpsRunFileWriteDescription(hid_t, const char *);
PetscErrorCode KhgpsRunFileWriteRun(hid_t, PetscInt, const char *);
PetscErrorCode KhgpsRunFileWriteRecord(hid_t, const KhgpsRecord *);
int            KhgpsRunFileCheckRealization(hid_t, const char *, PetscInt, PetscInt, PetscInt *, char *, size_t);
long           KhgpsRunFileCount(hid_t, const char *);
#endif
