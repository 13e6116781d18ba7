# broken: the answer tries to reach the grader's machine and the internet
# edit: replace mean
# loses: none
# status: ^ok$
# feedback: network blocked: 2 of 2
# never: NETWORK-REACHED
import socket
blocked = 0
for address in [("127.0.0.1", @@PORT@@), ("pypi.org", 443)]:
    try:
        socket.create_connection(address, timeout=2).close()
        print("NETWORK-REACHED", address)
    except OSError:
        blocked += 1
print(f"network blocked: {blocked} of 2")

def mean(xs):
    return sum(xs) / len(xs)
