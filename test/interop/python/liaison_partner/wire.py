"""Protobuf types of proto/liaison/v1, loaded from a FileDescriptorSet (`buf build -o`)."""
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


class Proto:
    def __init__(self, descriptor_set_path: str):
        fds = descriptor_pb2.FileDescriptorSet()
        with open(descriptor_set_path, "rb") as f:
            fds.ParseFromString(f.read())
        self.pool = descriptor_pool.DescriptorPool()
        for file in fds.file:
            self.pool.Add(file)
        self.factory = message_factory.MessageFactory(self.pool)
        self._cache = {}

    def __getattr__(self, short: str):
        # proto.SignedEnvelope -> class of liaison.v1.SignedEnvelope
        if short.startswith("_"):
            raise AttributeError(short)
        return self.cls("liaison.v1." + short)

    def cls(self, full_name: str):
        if full_name not in self._cache:
            self._cache[full_name] = self.factory.GetPrototype(self.pool.FindMessageTypeByName(full_name))
        return self._cache[full_name]

    def enum_value(self, enum_full_name: str, name: str) -> int:
        return self.pool.FindEnumTypeByName(enum_full_name).values_by_name[name].number
