#!/usr/bin/python3
# torch-model.py - the peer of mlde-train for tests/bench/bench-model.sh: a
# PyTorch model of the builtin model's architecture (tools/lib/model/
# network.c, default sizes), trained on the same items with the same batch
# and threads, images decoded once before the clock starts.  It prints one
# line, "samples/s N".  Needs Debian's python3-torch (apt-get install
# python3-torch); the bench says so and skips the peer when it is missing.
#
# usage: torch-model.py WORLD_DIR ITEMS.jsonl.zst THREADS EPOCHS
import json
import math
import subprocess
import sys
import time
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

S, C1, C2, C3, NFILM, C4 = 64, 32, 64, 64, 2, 128
DQ, DH, DZ, NH, DK, NQ, NA = 64, 128, 128, 4, 32, 1 << 14, 1 << 12
OPTS, BATCH, TEMP = 4, 64, 2.0
CZ, SIDE = C3 + 2, S // 8
P = SIDE * SIDE
POOLED = 4 * C4 + DH + NH * (C3 + 3)


# ---- data: the items and their images, as mlde-train reads them ----

def png_rgb(path):
    """8-bit RGB PNG (what mlde-world writes) to an S x S x 3 uint8 array."""
    try:
        from PIL import Image
        return np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8)
    except ImportError:
        pass
    data = open(path, "rb").read()
    pos, idat, w, h = 8, b"", 0, 0
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h = int.from_bytes(body[0:4], "big"), int.from_bytes(body[4:8], "big")
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + 3 * w)
    out = np.zeros((h, 3 * w), dtype=np.int32)
    for y in range(h):
        f, r = raw[y, 0], raw[y, 1:].astype(np.int32)
        up = out[y - 1] if y else np.zeros(3 * w, dtype=np.int32)
        if f == 0:
            out[y] = r
        elif f == 2:
            out[y] = (r + up) & 255
        else:
            row = np.zeros(3 * w + 3, dtype=np.int32)
            for x in range(3 * w):
                a, b, c = row[x], up[x], (up[x - 3] if x >= 3 else 0)
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) >> 1
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                row[x + 3] = (r[x] + pred) & 255
            out[y] = row[3:]
    return out.astype(np.uint8).reshape(h, w, 3)


def fnv(s, h=0xCBF29CE484222325):
    for ch in s.encode():
        h = ((h ^ ch) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def words(text):
    out, cur = [], ""
    for ch in text:
        if ch.isascii() and not ch.isalnum():
            if cur:
                out.append(cur[:31])
            cur = ""
        else:
            cur += ch.lower()
    if cur:
        out.append(cur[:31])
    return out


def text_rows(text, question):
    """The rows model.c's text_rows gives a text: words, word pairs, and for
    a question position-tagged words and pairs 2 to 4 apart."""
    w, ids = words(text), []
    for i, wi in enumerate(w):
        ids.append(fnv(wi, fnv("u:")) % NQ)
        if i + 1 < len(w):
            ids.append(fnv(w[i + 1], fnv(" ", fnv(wi, fnv("b:")))) % NQ)
        if not question:
            continue
        ids.append(fnv(wi, fnv("p%d:" % (4 * i // len(w)))) % NQ)
        for j in range(i + 2, min(len(w), i + 5)):
            ids.append(fnv(w[j], fnv(" ", fnv(wi, fnv("s:")))) % NQ)
    return ids


def load(world, items_path):
    lines = subprocess.run(["zstdcat", items_path], check=True,
                           capture_output=True).stdout.decode().splitlines()
    items, images, index = [], [], {}
    for line in lines:
        r = json.loads(line)
        if r["image"] not in index:
            index[r["image"]] = len(images)
            images.append(png_rgb(world + "/" + r["image"]))
        opts = r["options"][:OPTS]
        items.append((index[r["image"]], text_rows(r["question"], True),
                      [text_rows(o, False) for o in opts],
                      [fnv(" ".join(words(o)), fnv("a:")) % NA for o in opts],
                      r["answer"]))
    px = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float()
    return items, (px - 127.5) / 64


def bag_input(lists):
    flat = [i for ids in lists for i in ids]
    offs, o = [], 0
    for ids in lists:
        offs.append(o)
        o += len(ids)
    return torch.tensor(flat, dtype=torch.long), torch.tensor(offs, dtype=torch.long)


# ---- the model ----

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        chans = [3, C1, C2, C3]
        self.conv = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], 3, 2, 1, bias=False)
                                  for i in range(3))
        self.bn = nn.ModuleList(nn.BatchNorm2d(chans[i + 1]) for i in range(3))
        self.film = nn.ModuleList(nn.Conv2d(CZ, C3, 3, 1, 1, bias=False)
                                  for _ in range(NFILM))
        self.fbn = nn.ModuleList(nn.BatchNorm2d(C3, affine=False) for _ in range(NFILM))
        self.fscale = nn.ModuleList(nn.Linear(DH, C3) for _ in range(NFILM))
        self.fshift = nn.ModuleList(nn.Linear(DH, C3) for _ in range(NFILM))
        self.head = nn.Conv2d(CZ, C4, 1, bias=False)
        self.hbn = nn.BatchNorm2d(C4)
        self.words = nn.EmbeddingBag(NQ, DQ, mode="mean", sparse=True)
        self.q1, self.q2, self.qln = nn.Linear(DQ, DH), nn.Linear(DH, DH), nn.LayerNorm(DH)
        self.key = nn.Conv2d(CZ, DK, 1, bias=False)
        self.aq = nn.Linear(DH, NH * DK)
        self.out, self.oln = nn.Linear(POOLED, DZ), nn.LayerNorm(DZ)
        self.proj = nn.Linear(DQ, DZ, bias=False)
        self.answers = nn.Embedding(NA, DZ, sparse=True)
        self.abias = nn.Embedding(NA, 1, sparse=True)
        lin = torch.linspace(-1 + 1 / SIDE, 1 - 1 / SIDE, SIDE)
        self.register_buffer("coords", torch.stack(torch.meshgrid(lin, lin, indexing="xy")))

    def forward(self, px, img, q, opt, aid, mask):
        a = px
        for conv, bn in zip(self.conv, self.bn):
            a = F.relu(bn(conv(a)))
        b = img.shape[0]
        xy = self.coords.expand(b, 2, SIDE, SIDE)
        feat = a[img]
        qh = F.relu(self.qln(self.q2(F.relu(self.q1(self.words(*q))))))
        for k in range(NFILM):
            z = torch.cat([feat, xy], 1)
            y = self.fbn[k](self.film[k](z))
            gam = 1 + self.fscale[k](qh)
            bet = self.fshift[k](qh)
            feat = feat + F.relu(gam[:, :, None, None] * y + bet[:, :, None, None])
        z = torch.cat([feat, xy], 1)
        g = F.relu(self.hbn(self.head(z))).flatten(2)              # b, C4, P
        soft = torch.softmax(TEMP * g, 2)
        sx = (soft * self.coords[0].flatten()).sum(2)
        sy = (soft * self.coords[1].flatten()).sum(2)
        keys = self.key(z).flatten(2)                                # b, DK, P
        qs = self.aq(qh).view(b, NH, DK)
        logits = torch.bmm(qs, keys) / math.sqrt(DK)                 # b, NH, P
        alpha = torch.softmax(logits, 2)
        read = torch.bmm(alpha, z.flatten(2).transpose(1, 2))        # b, NH, CZ
        cnt = torch.sigmoid(logits).sum(2) / 8
        v = torch.cat([g.amax(2), g.mean(2), qh, read.flatten(1), cnt, sx, sy], 1)
        h = F.relu(self.oln(self.out(v)))
        av = self.answers(aid) + self.proj(self.words(*opt)).view(b, OPTS, DZ)
        s = (av * h[:, None, :]).sum(2) + self.abias(aid).squeeze(2)
        return s.masked_fill(~mask, float("-inf"))


def batch_tensors(items, px):
    imgs = sorted({it[0] for it in items})
    local = {g: i for i, g in enumerate(imgs)}
    opts, aids, mask = [], [], []
    for it in items:
        n = len(it[2])
        opts += it[2] + [[]] * (OPTS - n)
        aids.append(it[3] + [0] * (OPTS - n))
        mask.append([True] * n + [False] * (OPTS - n))
    return (px[imgs], torch.tensor([local[it[0]] for it in items]),
            bag_input([it[1] for it in items]), bag_input(opts), torch.tensor(aids),
            torch.tensor(mask), torch.tensor([it[4] for it in items]))


def main():
    world, path, threads, epochs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    items, px = load(world, path)
    net = Net()
    sparse = [net.words.weight, net.answers.weight, net.abias.weight]
    dense = [p for p in net.parameters() if all(p is not s for s in sparse)]
    opt_dense = torch.optim.AdamW(dense, lr=0.002, weight_decay=0.05)
    opt_sparse = torch.optim.SparseAdam(sparse, lr=0.002)
    # batches made before the clock starts, as mlde-train's are in memory
    batches = []
    order = torch.randperm(len(items)).tolist()
    for b in range(0, len(items), BATCH):
        batches.append(batch_tensors([items[i] for i in order[b:b + BATCH]], px))
    t0 = time.time()
    for _ in range(epochs):
        for pxb, img, q, o, aid, mask, ans in batches:
            loss = F.cross_entropy(net(pxb, img, q, o, aid, mask), ans)
            opt_dense.zero_grad()
            opt_sparse.zero_grad()
            loss.backward()
            opt_dense.step()
            opt_sparse.step()
    secs = time.time() - t0
    print("samples/s %.1f" % (len(items) * epochs / secs))


if __name__ == "__main__":
    main()
