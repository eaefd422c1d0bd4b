// ra6mon native addon: one small netlink socket class for Node.js, plus the monotonic clock.
//
// The socket is non-blocking and watched with a uv_poll_t on the environment's own loop (no
// threads). Each wake-up drains up to kMaxDatagramsPerWakeup datagrams and hands them to JS in one
// callback. Everything about message contents (headers, attributes, acks) is parsed in
// TypeScript (src/ra/), where it is easy to test; this file only moves datagrams.
#include <napi.h>
#include <uv.h>

#include <errno.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

namespace {

// Bounds the time spent in one wake-up so a flood cannot starve the rest of the event loop; the
// poll is level-triggered, so anything left in the queue wakes us again on the next loop turn.
constexpr int kMaxDatagramsPerWakeup = 64;
// Larger than any netlink datagram the kernel sends us (dumps use at most 32 KiB per datagram).
constexpr size_t kDatagramBufferBytes = 64 * 1024;

// Owns a file descriptor; closes it exactly once.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  ~UniqueFd() { reset(); }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

// Node-style system error: message, errno (negative, as Node's own errors), code, syscall.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall, const std::string& what) {
  std::string code = uv_err_name(-err);
  Napi::Error error =
      Napi::Error::New(env, what + ": " + syscall + " failed: " + code + " (" + uv_strerror(-err) + ")");
  error.Set("errno", Napi::Number::New(env, -err));
  error.Set("code", Napi::String::New(env, code));
  error.Set("syscall", Napi::String::New(env, syscall));
  return error;
}

class NetlinkSocket;

// The libuv side of a socket. libuv owns it between uv_close() and the close callback, which may
// run after the JS object is gone, so it lives in its own allocation and is deleted there.
//
// Environment teardown (worker exit, process exit) uses an *async* cleanup hook: Node unloads the
// addon after the hooks, and a plain napi_add_env_cleanup_hook lets the loop run our uv_close
// callback after the code is gone (a segfault on worker exit, found by test/unit/ra/addon.test.ts).
// The async hook keeps the environment, and this library, alive until the close callback removes it.
struct PollHandle {
  uv_poll_t poll;
  NetlinkSocket* owner;
  napi_async_cleanup_hook_handle teardown_hook;
};

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NetlinkSocket",
                       {
                           InstanceMethod<&NetlinkSocket::Send>("send"),
                           InstanceMethod<&NetlinkSocket::CloseMethod>("close"),
                           InstanceMethod<&NetlinkSocket::RefMethod>("ref"),
                           InstanceMethod<&NetlinkSocket::UnrefMethod>("unref"),
                           InstanceAccessor<&NetlinkSocket::PortId>("portId"),
                           InstanceAccessor<&NetlinkSocket::Closed>("closed"),
                       });
  }

  // new NetlinkSocket({ protocol, groups?: number[], receiveBufferBytes?: number }, onWakeup)
  explicit NetlinkSocket(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<NetlinkSocket>(info), buffer_(kDatagramBufferBytes) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw Napi::TypeError::New(env, "NetlinkSocket(options, onWakeup): options object and callback required");
    }
    Napi::Object options = info[0].As<Napi::Object>();
    if (!options.Get("protocol").IsNumber()) throw Napi::TypeError::New(env, "options.protocol must be a number");
    protocol_ = options.Get("protocol").As<Napi::Number>().Int32Value();
    std::string what = "netlink protocol " + std::to_string(protocol_);

    int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol_);
    if (fd < 0) throw SystemError(env, errno, "socket", what);
    fd_.reset(fd);

    Napi::Value receiveBuffer = options.Get("receiveBufferBytes");
    if (receiveBuffer.IsNumber()) {
      int bytes = receiveBuffer.As<Napi::Number>().Int32Value();
      if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0) {
        throw SystemError(env, errno, "setsockopt(SO_RCVBUF)", what);
      }
    }

    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;  // nl_pid 0: the kernel assigns a unique port id
    if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) < 0) throw SystemError(env, errno, "bind", what);
    socklen_t length = sizeof local;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) < 0) {
      throw SystemError(env, errno, "getsockname", what);
    }
    port_id_ = local.nl_pid;

    // Error acks carry the kernel's own explanation (extended ack) and not our request echoed back.
    // Best effort: older kernels without these options still send plain acks.
    int on = 1;
    setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);

    Napi::Value groups = options.Get("groups");
    if (groups.IsArray()) {
      Napi::Array list = groups.As<Napi::Array>();
      for (uint32_t i = 0; i < list.Length(); i++) {
        int group = list.Get(i).As<Napi::Number>().Int32Value();
        if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
          throw SystemError(env, errno, "setsockopt(NETLINK_ADD_MEMBERSHIP)", what + " group " + std::to_string(group));
        }
      }
    }

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || loop == nullptr) {
      throw Napi::Error::New(env, "NetlinkSocket: no event loop for this environment");
    }
    handle_ = new PollHandle{};
    handle_->owner = this;
    int rc = uv_poll_init(loop, &handle_->poll, fd);
    if (rc == 0) rc = uv_poll_start(&handle_->poll, UV_READABLE, OnPoll);
    if (rc < 0) {
      Napi::Error error = SystemError(env, -rc, "uv_poll_start", what);
      Close();
      throw error;
    }
    on_wakeup_ = Napi::Persistent(info[1].As<Napi::Function>());
    async_context_ = std::make_unique<Napi::AsyncContext>(env, "ra6mon.NetlinkSocket");
    // The hook's argument is the PollHandle, which outlives this object until the close callback.
    if (napi_add_async_cleanup_hook(env, TeardownHook, handle_, &handle_->teardown_hook) != napi_ok) {
      handle_->teardown_hook = nullptr;
      Close();
      throw Napi::Error::New(env, "NetlinkSocket: cannot register the environment cleanup hook");
    }
    // An open socket must not be collected while it may still deliver; close() releases this.
    Ref();
    referenced_ = true;
  }

  ~NetlinkSocket() override {
    finalizing_ = true;
    Close();
  }

 private:
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!IsOpen()) throw Napi::Error::New(env, "send on a closed netlink socket");
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "send(buffer): a Buffer is required");
    Napi::Buffer<uint8_t> message = info[0].As<Napi::Buffer<uint8_t>>();
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;  // nl_pid 0: the kernel
    ssize_t sent;
    do {
      sent = sendto(fd_.get(), message.Data(), message.Length(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) throw SystemError(env, errno, "sendto", "netlink protocol " + std::to_string(protocol_));
    return Napi::Number::New(env, static_cast<double>(sent));
  }

  Napi::Value CloseMethod(const Napi::CallbackInfo& info) {
    Close();
    return info.Env().Undefined();
  }

  Napi::Value RefMethod(const Napi::CallbackInfo& info) {
    if (IsOpen()) uv_ref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    return info.Env().Undefined();
  }

  Napi::Value UnrefMethod(const Napi::CallbackInfo& info) {
    if (IsOpen()) uv_unref(reinterpret_cast<uv_handle_t*>(&handle_->poll));
    return info.Env().Undefined();
  }

  Napi::Value PortId(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), port_id_); }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !IsOpen()); }

  bool IsOpen() const { return handle_ != nullptr; }

  // Idempotent. Safe from JS, from the environment teardown hook and from the finalizer.
  void Close() {
    if (handle_ != nullptr) {
      uv_poll_stop(&handle_->poll);
      handle_->owner = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(&handle_->poll), OnClosed);
      handle_ = nullptr;
      // The poll is stopped, so the descriptor may go now: the kernel sees the port vanish at once.
      fd_.reset();
      if (!in_wakeup_ && !finalizing_) on_wakeup_.Reset();
      if (referenced_ && !finalizing_) Unref();
      referenced_ = false;
    }
    fd_.reset();
  }

  static void OnClosed(uv_handle_t* h) {
    auto* handle = reinterpret_cast<PollHandle*>(h);
    if (handle->teardown_hook != nullptr) napi_remove_async_cleanup_hook(handle->teardown_hook);
    delete handle;
  }

  // The environment is going away (worker exit, process exit) with this socket still open.
  static void TeardownHook(napi_async_cleanup_hook_handle /*hook*/, void* arg) {
    NetlinkSocket* self = static_cast<PollHandle*>(arg)->owner;
    if (self == nullptr) return;  // already closing: OnClosed will remove the hook
    // References are about to be torn down by Node itself: release only what is ours.
    self->finalizing_ = true;
    self->Close();
  }

  static void OnPoll(uv_poll_t* poll, int status, int /*events*/) {
    NetlinkSocket* self = reinterpret_cast<PollHandle*>(poll)->owner;
    if (self != nullptr) self->Drain(status);
  }

  void Drain(int poll_status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Array datagrams = Napi::Array::New(env);
    uint32_t count = 0;
    bool overrun = false;
    bool more = false;
    int foreign = 0;
    int truncated = 0;
    Napi::Value error = env.Undefined();

    if (poll_status < 0) {
      // libuv reports EPOLLERR as UV_EBADF and stops the handle. On netlink that is how an overrun
      // arrives (sk_err = ENOBUFS): read the pending error, and if it is ENOBUFS keep going.
      int pending = 0;
      socklen_t length = sizeof pending;
      if (getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &pending, &length) == 0 && pending == ENOBUFS) {
        overrun = true;
        poll_status = uv_poll_start(&handle_->poll, UV_READABLE, OnPoll);
      }
    }
    if (poll_status < 0) {
      error = SystemError(env, -poll_status, "uv_poll", "netlink protocol " + std::to_string(protocol_)).Value();
    } else {
      more = true;  // until the queue is seen empty
      for (int i = 0; i < kMaxDatagramsPerWakeup; i++) {
        sockaddr_nl from{};
        iovec iov{buffer_.data(), buffer_.size()};
        msghdr msg{};
        msg.msg_name = &from;
        msg.msg_namelen = sizeof from;
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        ssize_t n = recvmsg(fd_.get(), &msg, MSG_DONTWAIT);
        if (n < 0) {
          if (errno == EINTR) continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK) {
            more = false;
            break;
          }
          if (errno == ENOBUFS) {  // the kernel dropped messages for us; the queue itself is still usable
            overrun = true;
            continue;
          }
          error = SystemError(env, errno, "recvmsg", "netlink protocol " + std::to_string(protocol_)).Value();
          break;
        }
        if (from.nl_pid != 0) {  // only the kernel may talk to us
          foreign++;
          continue;
        }
        if (msg.msg_flags & MSG_TRUNC) {
          truncated++;
          continue;
        }
        datagrams.Set(count++, Napi::Buffer<uint8_t>::Copy(env, buffer_.data(), static_cast<size_t>(n)));
      }
    }

    Napi::Object wakeup = Napi::Object::New(env);
    wakeup.Set("datagrams", datagrams);
    wakeup.Set("overrun", Napi::Boolean::New(env, overrun));
    wakeup.Set("more", Napi::Boolean::New(env, more));
    wakeup.Set("foreign", Napi::Number::New(env, foreign));
    wakeup.Set("truncated", Napi::Number::New(env, truncated));
    wakeup.Set("error", error);

    Napi::Object receiver = Value();
    in_wakeup_ = true;
    try {
      on_wakeup_.MakeCallback(receiver, {wakeup}, *async_context_);
    } catch (const Napi::Error& e) {
      // A throwing listener is the application's uncaught exception, not ours to swallow.
      in_wakeup_ = false;
      if (!IsOpen()) on_wakeup_.Reset();
      napi_fatal_exception(env, e.Value());
      return;
    }
    in_wakeup_ = false;
    if (!IsOpen()) on_wakeup_.Reset();
  }

  int protocol_ = 0;
  uint32_t port_id_ = 0;
  UniqueFd fd_;
  PollHandle* handle_ = nullptr;
  std::vector<uint8_t> buffer_;
  Napi::FunctionReference on_wakeup_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  bool finalizing_ = false;
  bool in_wakeup_ = false;
  bool referenced_ = false;
};

// clock_gettime(clock) in nanoseconds, as a BigInt: the clock the kernel stamps ra6mon events with.
Napi::Value ClockNs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  clockid_t clock = CLOCK_MONOTONIC;
  if (info.Length() > 0 && info[0].IsNumber()) clock = info[0].As<Napi::Number>().Int32Value();
  timespec now{};
  if (clock_gettime(clock, &now) < 0) throw SystemError(env, errno, "clock_gettime", "clock " + std::to_string(clock));
  uint64_t ns = static_cast<uint64_t>(now.tv_sec) * 1000000000ULL + static_cast<uint64_t>(now.tv_nsec);
  return Napi::BigInt::New(env, ns);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NetlinkSocket", NetlinkSocket::Define(env));
  exports.Set("clockNs", Napi::Function::New(env, ClockNs, "clockNs"));
  exports.Set("maxDatagramsPerWakeup", Napi::Number::New(env, kMaxDatagramsPerWakeup));
  return exports;
}

}  // namespace

NODE_API_MODULE(ra6mon, Init)
