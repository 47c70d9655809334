/* khgps_io.h: the run file's life: lock, resume check, appends to its log and the fold, a clean stop on a signal (io.c). */
#ifndef KHGPS_IO_H
#define KHGPS_IO_H

#include "khgps_solvers.h"

/* io.c */
PetscErrorCode KhgpsPrepareOutput(MPI_Comm, KhgpsParams *, PetscInt *, PetscInt **);
PetscErrorCode KhgpsOutputDescribe(Tao, EPS, const KhgpsParams *);
PetscErrorCode KhgpsAppend(const KhgpsParams *, PetscInt, KhgpsRecord *, PetscReal *);
PetscErrorCode KhgpsFinishOutput(const KhgpsParams *);
PetscErrorCode KhgpsSignalsInstall(const char *);
void           KhgpsSignalsWork(PetscInt);
PetscBool      KhgpsOutputBroken(void);
#define KHGPS_MSG_LEN 2048
PetscErrorCode KhgpsCaptureErrorHandler(MPI_Comm, int, const char *, const char *, PetscErrorCode, PetscErrorType, const char *, void *);
/* Returned (not raised) by KhgpsRunEnsemble when it has reported a failure in one line
   `khgps: error: ...` (an append that failed): main exits with code 2. */
#define KHGPS_ERR_REPORTED 2002

#endif
