/* describe.h: private to the run file's protocol (outfile.c): what KhgpsOutputDescribe made (describe.c). */
#ifndef KHGPS_DESCRIBED_H
#define KHGPS_DESCRIBED_H

#include "khgps_runfile.h" /* KhgpsParam */

const KhgpsParam *KhgpsDescribedParams(int *);
const char       *KhgpsDescribedRun(void);

#endif
