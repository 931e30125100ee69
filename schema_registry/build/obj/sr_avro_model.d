build/obj/sr_avro_model.o: src/sr_avro_model.c src/sr_avro.h src/sr_int.h \
 include/tribsr.h
src/sr_avro.h:
src/sr_int.h:
include/tribsr.h:
