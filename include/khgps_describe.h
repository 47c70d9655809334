/* khgps_describe.h: what a run file records of a run, made once at set-up (describe.c). */
#ifndef KHGPS_DESCRIBE_H
#define KHGPS_DESCRIBE_H

#include <petsctao.h>
#include <slepceps.h>
#include "khgps_options.h"

PetscErrorCode KhgpsOutputDescribe(Tao, EPS, const KhgpsParams *);

#endif
