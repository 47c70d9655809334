/* khgps_error.h: failures reported in one line `khgps: error: ...` (error.c). */
#ifndef KHGPS_ERROR_H
#define KHGPS_ERROR_H

#include <petscsys.h>

#define KHGPS_MSG_LEN 2048
/* keeps the first message in ctx (a char[KHGPS_MSG_LEN]) and prints nothing */
PetscErrorCode KhgpsCaptureErrorHandler(MPI_Comm, int, const char *, const char *, PetscErrorCode, PetscErrorType, const char *, void *);
/* Returned (not raised) by KhgpsRunEnsemble when it has reported a failure in one line
   `khgps: error: ...` (an append that failed): main exits with code 2. */
#define KHGPS_ERR_REPORTED 2002

#endif
