"""Sample-quality evaluation shared by every generative family.

resize          PyTorch's bilinear resize (align_corners=False), as FID's input pipeline uses it
inception       the FID Inception-v3 network (pytorch-fid's FIDInceptionA/C/E_1/E_2) in Flax
weights         convert pytorch-fid's .pth, find and load the converted npz
random_weights  seeded numpy weights in the state-dict layout, for the fixture test
features        feature networks: Inception (when its weights exist) or the offline classifier
metrics         Fréchet distance, Inception Score, precision / recall, density / coverage
"""
