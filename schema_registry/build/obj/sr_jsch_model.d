build/obj/sr_jsch_model.o: src/sr_jsch_model.c src/sr_jsch.h src/sr_int.h \
 include/tribsr.h
src/sr_jsch.h:
src/sr_int.h:
include/tribsr.h:
