/* khgps_outfile.h: the run file's life: lock, resume check, appends to its log and the fold, a
   clean stop on a signal (outfile.c). */
#ifndef KHGPS_OUTFILE_H
#define KHGPS_OUTFILE_H

#include "khgps_options.h"
#include "khgps_result.h"

PetscErrorCode KhgpsPrepareOutput(MPI_Comm, KhgpsParams *, PetscInt *, PetscInt **);
PetscErrorCode KhgpsAppend(const KhgpsParams *, PetscInt, KhgpsRecord *, PetscReal *);
PetscErrorCode KhgpsFinishOutput(const KhgpsParams *);
PetscErrorCode KhgpsSignalsInstall(const char *);
void           KhgpsSignalsWork(PetscInt);
PetscBool      KhgpsOutputBroken(void);

#endif
