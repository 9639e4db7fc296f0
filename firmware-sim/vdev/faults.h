/* Fault injection (syntax in docs/firmware-sim.md): parsed from
 * CAMGW_SIM_FAULTS at start, replaced live from the CAMGW_SIM_CONTROL file,
 * deterministic with CAMGW_SIM_SEED. */
#ifndef CAMGW_FAULTS_H
#define CAMGW_FAULTS_H

#include <stddef.h>
#include <stdint.h>

struct fault_set {
  double drop_rate, eio_rate, corrupt_rate, drift_ppm;
  int64_t stall_at_ns, stall_ns;       /* stall_at relative to the set's start; -1: none */
  int64_t unplug_at_ns, unplug_for_ns; /* -1: none; for < 0: stays unplugged */
  int unplug_encoder;                  /* dev=encoder|all also takes the encoder */
  int unplug_camera;
  int unplug_audio;                      /* dev=audio|all: the USB sound card */
  int64_t snd_stall_at_ns, snd_stall_ns; /* stall:dev=mic|speaker|audio; -1: none */
  int snd_stall_which;                   /* FAULT_SND_* bits */
  int64_t xrun_at_ns;                    /* -1: none */
  int xrun_which;
  int64_t enc_lag_ns;
  int64_t enc_stop_at_ns; /* -1: none */
};

/* the sound card's streams, for stall and xrun */
#define FAULT_SND_MIC 1
#define FAULT_SND_SPEAKER 2

/* 0 on success; else writes a precise message to err */
int faults_parse(const char* spec, struct fault_set* out, char* err, size_t errlen);
void faults_init(void);  /* parse the environment's faults */
void faults_start(void); /* devices exist: start the schedule */
int faults_drop_frame(void);
int faults_eio(void);
int faults_corrupt(void);
uint64_t faults_rand(void);
double faults_drift_ppm(void);
int64_t faults_take_stall_ns(int64_t now_mono); /* a stall that starts now (once) */
int64_t faults_enc_lag_ns(void);
int faults_enc_stopped(int64_t now_mono);
int64_t faults_take_snd_stall_ns(int64_t now_mono, int which); /* once per stream */
int faults_take_snd_xrun(int64_t now_mono, int which);         /* once per stream */

#endif
