// capture-flood: sends COUNT Ethernet frames of SIZE bytes on IFACE as fast as it can (or at PPS
// packets per second), with sendmmsg(2) on an AF_PACKET socket (packet(7)), 256 frames per call.
// Used by bench/capture.ts; built there with `cc -O2`.
// usage: capture-flood IFACE COUNT SIZE [PPS]
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BATCH 256

int main(int argc, char** argv) {
  if (argc < 4) { fprintf(stderr, "usage: %s IFACE COUNT SIZE [PPS]\n", argv[0]); return 2; }
  const char* iface = argv[1];
  long count = atol(argv[2]);
  int size = atoi(argv[3]);
  double pps = argc > 4 ? atof(argv[4]) : 0;
  if (size < 60 || size > 9000) { fprintf(stderr, "SIZE must be 60..9000\n"); return 2; }
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) { perror("socket"); return 1; }
  struct sockaddr_ll sll = {0};
  sll.sll_family = AF_PACKET;
  sll.sll_ifindex = if_nametoindex(iface);
  if (sll.sll_ifindex == 0) { perror(iface); return 1; }
  if (bind(fd, (struct sockaddr*)&sll, sizeof sll) < 0) { perror("bind"); return 1; }
  static unsigned char frames[BATCH][9000];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    unsigned char* f = frames[i];
    memcpy(f, "\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x88\xb5", 14);  // local experimental EtherType
    for (int k = 14; k < size; k++) f[k] = (unsigned char)(i + k);
    iov[i].iov_base = f;
    iov[i].iov_len = size;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  long sent = 0;
  while (sent < count) {
    int n = count - sent < BATCH ? (int)(count - sent) : BATCH;
    int r = sendmmsg(fd, msgs, n, 0);
    if (r < 0) { perror("sendmmsg"); return 1; }
    sent += r;
    if (pps > 0) {
      // Pace: sleep until the time the next frame is due.
      double due = sent / pps;
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      double el = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
      if (due > el) {
        double d = due - el;
        struct timespec ts = {(time_t)d, (long)((d - (time_t)d) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
  }
  struct timespec end;
  clock_gettime(CLOCK_MONOTONIC, &end);
  double el = (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9;
  printf("%ld %.6f\n", sent, el);
  return 0;
}
